from __future__ import annotations

import secrets
from typing import cast

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from krov.aid.models import AID_LANGUAGES, HelpRequest, Sensitivity, Skill, TrustLevel


def skill_choices():
    return [(s.pk, s.label) for s in Skill.objects.filter(active=True)]


def language_choices():
    return list(AID_LANGUAGES.items())


class HelpRequestForm(forms.Form):
    # A free field behind a select: an unknown language (an old page, a tampered form)
    # must not lose the request; the service falls back to a language the desk serves.
    # Its length is checked in clean_language: a max_length here would put a "maxlength"
    # on the <select>, which HTML does not allow.
    language = forms.CharField(label=_("Language you want to talk in"), widget=forms.Select())
    # Nothing is chosen for the requester: one who skips this must not file a request for
    # something they never asked for. Left empty, it is "something else".
    skill = forms.TypedChoiceField(
        label=_("What kind of help"), coerce=int, choices=(), required=False, empty_value=None
    )
    description = forms.CharField(
        label=_("What do you need?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Write in your own words. Do not give your full name, address or phone number "
            "unless a volunteer asks for it."
        ),
    )
    urgency = forms.TypedChoiceField(
        label=_("How urgent is it?"),
        coerce=int,
        choices=HelpRequest.Urgency.choices,
        initial=HelpRequest.Urgency.NORMAL,
    )
    region = forms.CharField(
        label=_("Region (optional)"),
        required=False,
        max_length=200,
        help_text=_("A city or region is enough; never an exact address."),
    )
    # Offered only where the address can be sealed (krov.aid.services.email_notice); a
    # CharField, so that the service gives the one message for a bad address.
    email = forms.CharField(
        label=_("Email me when someone answers (optional)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "Only if that is safe for you: your email provider, and the mail service Krov "
            "sends through, will see that you were written to, and when. The email never "
            "says what anyone wrote and holds no link. Krov's own database keeps the address "
            "sealed, so that it cannot be read from the server, and deletes it when your "
            "request is closed."
        ),
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Bots fill every field; people never see this one (hidden with CSS).
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def clean_language(self) -> str:
        # Anything longer than a language code is no language: the desk's fallback applies.
        return self.cleaned_data["language"][:16]

    def __init__(self, *args, language: str = "en", offer_email: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_email:
            del self.fields["email"]
        limit = settings.KROV_AID_MAX_TEXT
        description = cast(forms.CharField, self.fields["description"])
        description.max_length = limit
        description.validators.append(MaxLengthValidator(limit))
        description.widget.attrs["maxlength"] = str(limit)
        description.help_text = _(
            "Write in your own words, up to %(limit)s characters. Do not give your full "
            "name, address or phone number unless a volunteer asks for it."
        ) % {"limit": limit}
        self.fields["language"].widget.choices = language_choices()  # type: ignore[attr-defined]
        self.fields["language"].initial = language
        cast(forms.ChoiceField, self.fields["skill"]).choices = [
            ("", _("Not sure, or something else")),
            *skill_choices(),
        ]
        if not self.is_bound:
            self.initial["submission_key"] = secrets.token_urlsafe(24)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.KROV_AID_MAX_TEXT
        self.fields["body"].max_length = limit
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        self.fields["body"].widget.attrs["maxlength"] = str(limit)


class NoteForm(MessageForm):
    question = forms.BooleanField(label=_("Ask the coordinators"), required=False)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How did it end?"),
        choices=[c for c in HelpRequest.Outcome.choices if c[0] != "duplicate"],
    )


class HandOverForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you handing it over?"), widget=forms.Textarea(attrs={"rows": 2})
    )


class TriageForm(forms.Form):
    skill = forms.TypedChoiceField(label=_("Kind of help"), coerce=int, choices=())
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), coerce=int, choices=HelpRequest.Urgency.choices
    )
    sensitivity = forms.TypedChoiceField(
        label=_("Sensitivity"), coerce=int, choices=Sensitivity.choices
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skill"].choices = [(s.pk, s.label) for s in Skill.objects.all()]


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Case code to merge into"), max_length=12)


class QueueFilterForm(forms.Form):
    language = forms.ChoiceField(required=False, choices=())
    skill = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=())
    urgency = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any urgency")), *HelpRequest.Urgency.choices],
    )
    older_than = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any age")), (1, _("Older than 1 hour")), (24, _("Older than 1 day"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Any language")), *language_choices()]
        self.fields["skill"].choices = [("", _("Any kind")), *skill_choices()]


class VouchForm(forms.Form):
    account = forms.CharField(label=_("Pseudonym or email of the account"), max_length=254)
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices()


class TrustForm(forms.Form):
    trust = forms.TypedChoiceField(label=_("Trust"), coerce=int, choices=TrustLevel.choices)


class ShiftForm(forms.Form):
    hours = forms.IntegerField(label=_("Hours"), min_value=1, max_value=12, initial=4)


# How many availability windows a volunteer can give for one weekday.
WINDOWS_PER_DAY = 3


class ProfileForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages you can help in"), choices=(), widget=forms.CheckboxSelectMultiple
    )
    max_cases = forms.IntegerField(label=_("Cases at once"), min_value=1, max_value=20)
    time_zone = forms.CharField(label=_("Your time zone"), max_length=64)
    paused = forms.BooleanField(label=_("Pause: offer me no new cases"), required=False)

    def __init__(self, *args, skills=(), windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices()
        # The weekly picker: for each weekday, WINDOWS_PER_DAY pairs of times (a time
        # input each; a browser without one accepts "18:00" typed).
        by_day: dict[int, list] = {}
        for window in windows:
            by_day.setdefault(window.weekday, []).append(window)
        self.week = []
        for day, day_name in WEEKDAYS.items():
            slots = []
            for slot in range(WINDOWS_PER_DAY):
                names = (f"day{day}_{slot}_from", f"day{day}_{slot}_until")
                for name, label in zip(names, (_("From"), _("Until")), strict=True):
                    self.fields[name] = forms.TimeField(
                        label=label,
                        required=False,
                        input_formats=["%H:%M", "%H:%M:%S"],
                        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
                    )
                if slot < len(by_day.get(day, [])):
                    self.initial[names[0]] = by_day[day][slot].start
                    self.initial[names[1]] = by_day[day][slot].end
                slots.append((self[names[0]], self[names[1]]))
            self.week.append((day_name, slots))
        self.skill_fields = []
        for skill in skills:
            name = f"skill_{skill.pk}"
            self.fields[name] = forms.TypedChoiceField(
                label=skill.label,
                required=False,
                coerce=int,
                empty_value=0,
                choices=[
                    (0, _("No")),
                    (1, _("Basic")),
                    (2, _("Good")),
                    (3, _("Expert")),
                ],
            )
            self.skill_fields.append((skill, name))

    def clean_time_zone(self):
        from krov.core.inputs import validate_time_zone

        value = self.cleaned_data["time_zone"].strip()
        validate_time_zone(value)
        return value

    def clean(self):
        cleaned = super().clean()
        windows = []
        for day in WEEKDAYS:
            for slot in range(WINDOWS_PER_DAY):
                start_name, end_name = f"day{day}_{slot}_from", f"day{day}_{slot}_until"
                start, end = cleaned.get(start_name), cleaned.get(end_name)
                # Minutes are what a window keeps: 18:00:30 is 18:00.
                start = start and start.replace(second=0, microsecond=0)
                end = end and end.replace(second=0, microsecond=0)
                if start_name in self.errors or end_name in self.errors:
                    continue
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(
                        end_name if start else start_name,
                        _("Give both times of this window, or neither."),
                    )
                elif start == end:
                    self.add_error(end_name, _("A window ends at another time than it starts."))
                else:
                    # An end before the start runs past midnight (22:00 until 02:00).
                    windows.append((day, start, end))
        cleaned["windows"] = windows
        return cleaned

    def skills(self) -> dict[int, int]:
        return {
            skill.pk: self.cleaned_data[name]
            for skill, name in self.skill_fields
            if self.cleaned_data.get(name)
        }
