from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from krov.directory.models import AREAS, LANGUAGES_SPOKEN, Guide, Organisation


class OrganisationForm(forms.Form):
    language = forms.ChoiceField(label=_("Written in"), choices=settings.LANGUAGES)
    name = forms.CharField(label=_("Name"), max_length=160)
    kind = forms.ChoiceField(label=_("Kind"), choices=Organisation.Kind.choices)
    description = forms.CharField(
        label=_("What they do"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas of work"),
        choices=list(AREAS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        choices=list(LANGUAGES_SPOKEN.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    online = forms.BooleanField(label=_("Online"), required=False)
    opening_hours = forms.CharField(label=_("Opening hours"), max_length=200, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    email = forms.CharField(label=_("Email"), max_length=200, required=False)
    telegram = forms.CharField(label=_("Telegram channel"), max_length=64, required=False)


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Organisation.Kind.choices]
    )
    area = forms.ChoiceField(
        label=_("Area"), required=False, choices=[("", _("Any area")), *AREAS.items()]
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Any language")), *LANGUAGES_SPOKEN.items()],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)


class GuideForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=160)
    topic = forms.ChoiceField(label=_("Topic"), choices=Guide.Topic.choices)
    body = forms.CharField(label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 10}))
    steps = forms.CharField(
        label=_("Steps (one per line)"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    sources = forms.CharField(
        label=_("Sources (one link per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    verify_by = forms.DateField(
        label=_("Verify again by"), widget=forms.DateInput(attrs={"type": "date"})
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Related organisations"), queryset=Organisation.objects.all(), required=False
    )
