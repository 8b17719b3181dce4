from django import forms

from .models import MAX_ANSWER_LENGTH


class AnswersForm(forms.Form):
    """One text box per question of the edition's intake, named after the question (or, for
    a default question not stored yet, after its position)."""

    def __init__(self, questions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[self.name_of(question)] = forms.CharField(
                label=question.text,
                help_text=question.help_text,
                required=False,
                max_length=MAX_ANSWER_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    @staticmethod
    def name_of(question):
        return f"vraag_{question.pk}" if question.pk else f"vraag_n{question.position}"

    def texts(self):
        """[(question, text)] of the questions the page sent (a question added since the page
        was shown is left alone, not emptied)."""
        return [
            (question, self.cleaned_data[self.name_of(question)])
            for question in self.questions
            if self.name_of(question) in self.data
        ]
