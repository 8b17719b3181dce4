from django import forms

from .models import MAX_ANSWER_LENGTH, OPEN


class EvaluationForm(forms.Form):
    """One field per question of the edition's evaluation, named after the question: radio
    buttons for a scale or a choice, a text box for an open question. Nothing is required: a
    question skipped is a question not answered."""

    def __init__(self, questions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            if question.kind == OPEN:
                field = forms.CharField(
                    max_length=MAX_ANSWER_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
                )
            else:
                options = question.options()
                field = forms.ChoiceField(
                    choices=list(zip(options, options, strict=True)), widget=forms.RadioSelect
                )
            field.label = question.text
            field.help_text = question.help_text
            field.required = False
            self.fields[f"vraag_{question.pk}"] = field

    def answers(self):
        """[(question, value, text)]: a scale's or choice's answer as value, an open one as text."""
        found = []
        for question in self.questions:
            given = self.cleaned_data.get(f"vraag_{question.pk}", "").strip()
            if question.kind == OPEN:
                found.append((question, "", given))
            else:
                found.append((question, given, ""))
        return found
