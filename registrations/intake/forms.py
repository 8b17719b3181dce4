from django import forms

from .models import MAX_ANSWER_LENGTH


class AnswersForm(forms.Form):
    """One text box per question of the edition's intake, named after the question."""

    def __init__(self, questions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"vraag_{question.pk}"] = forms.CharField(
                label=question.text,
                help_text=question.help_text,
                required=False,
                max_length=MAX_ANSWER_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def texts(self):
        """{question id: text} as typed."""
        return {q.pk: self.cleaned_data[f"vraag_{q.pk}"] for q in self.questions}
