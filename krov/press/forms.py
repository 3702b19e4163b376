from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from krov.press.models import Story


class SourceForm(forms.Form):
    url = forms.URLField(
        label=_("Feed address (RSS or Atom)"), max_length=500, assume_scheme="https"
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="sr")


class TermForm(forms.Form):
    term = forms.CharField(
        label=_("Word stem"),
        max_length=60,
        help_text=_("In either script; matched as the start of a whole word, e.g. “izbeglic”."),
    )
    endings = forms.CharField(
        label=_("Endings"),
        max_length=300,
        required=False,
        help_text=_(
            "The endings the word's forms may have, separated by spaces; “-” is the stem "
            "alone. Empty: the stem alone, as a whole word."
        ),
    )


class EndingsForm(forms.Form):
    endings = forms.CharField(label=_("Endings"), max_length=300, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Story.Status.choices)


class FilterForm(forms.Form):
    source = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(
        required=False, choices=[("", _("Any status")), *Story.Status.choices]
    )
    term = forms.IntegerField(required=False, min_value=1)
