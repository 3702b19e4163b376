from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from krov.core import translated
from krov.core.templatetags.scripts import lang_if_other
from krov.events.models import Event, Venue, VenueTranslation
from krov.events.services import (
    VENUE_TEXT_FIELDS,
    VENUE_TEXT_LIMITS,
    VenueTextError,
    check_venue_texts,
    check_venue_translation,
    venue_text,
    venues,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _sane_year(value):
    if value is not None and not 1900 <= value.year <= 2200:
        raise forms.ValidationError(_("Please give a date between 1900 and 2200."))
    return value


# No hall holds more; a bigger number is a typo or an attack on the database's integers.
MAX_CAPACITY = 100_000


def _when(label):
    return forms.DateTimeField(
        label=label,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT],
        validators=[_sane_year],
    )


class _VenueSelect(forms.Select):
    """Each venue's name marked with its language when it is not the page's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        venue = getattr(value, "instance", None)
        if isinstance(venue, Venue):
            language = venue_text(venue).name.language
            if lang_if_other(language):
                option["attrs"]["lang"] = language
        return option


class VenueField(forms.ModelChoiceField):
    """The venues, each name as the page shows it (krov.events.services.venue_text): its
    translation, else its own, Serbian in the page's script."""

    widget = _VenueSelect

    def __init__(self, **kwargs):
        super().__init__(queryset=venues(), required=False, **kwargs)

    def label_from_instance(self, obj: Venue) -> str:
        return venue_text(obj).name.text


class _Schedule(forms.Form):
    """Start, end and capacity, bounded the same way wherever an event is set up."""

    starts_at = _when(_("Starts"))
    ends_at = _when(_("Ends"))
    capacity = forms.IntegerField(
        label=_("Capacity (empty: no limit)"),
        required=False,
        min_value=1,
        max_value=MAX_CAPACITY,
        error_messages={
            "min_value": _("The capacity must be at least 1, or empty for no limit."),
            "max_value": _("The capacity can be at most %(limit_value)s."),
        },
    )

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


class EventForm(_Schedule):
    field_order = ["title", "language", "kind", "starts_at", "ends_at", "venue", "address"]
    title = forms.CharField(label=_("Title"), max_length=160)
    language = forms.ChoiceField(label=_("Written in"), choices=settings.LANGUAGES)
    kind = forms.ChoiceField(label=_("Kind"), choices=Event.Kind.choices)
    venue = VenueField(label=_("Venue"))
    address = forms.CharField(label=_("Or an address"), max_length=200, required=False)
    rsvp_mode = forms.ChoiceField(label=_("RSVP"), choices=Event.RSVP.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Event.Visibility.choices)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description (Markdown)"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


class SettingsForm(_Schedule):
    """What an organiser changes after creating the event (texts have their own form)."""

    field_order = ["kind", "starts_at", "ends_at", "venue", "address", "capacity"]

    kind = forms.ChoiceField(label=_("Kind"), choices=Event.Kind.choices)
    venue = VenueField(label=_("Venue"))
    address = forms.CharField(label=_("Or an address"), max_length=200, required=False)
    rsvp_mode = forms.ChoiceField(label=_("RSVP"), choices=Event.RSVP.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Event.Visibility.choices)
    queue_open = forms.BooleanField(label=_("Performer sign-up open"), required=False)
    queue_closes_at = forms.DateTimeField(
        label=_("Sign-up closes"),
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT],
        required=False,
        validators=[_sane_year],
    )
    queue_max_slots = forms.IntegerField(
        label=_("Maximum slots"), min_value=1, max_value=500, required=False
    )


class TextForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=160)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description (Markdown)"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


class RsvpForm(forms.Form):
    name = forms.CharField(label=_("Name or pseudonym"), max_length=60)
    contact = forms.EmailField(
        label=_("Email (optional, for changes and your place from the waiting list)"),
        required=False,
        max_length=200,
    )


class SlotForm(forms.Form):
    stage_name = forms.CharField(label=_("Stage name"), max_length=60)
    act = forms.CharField(label=_("What you perform"), max_length=120, required=False)
    language = forms.CharField(label=_("Language"), max_length=30, required=False)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=60, initial=5)


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Event.Kind.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *settings.LANGUAGES]
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_sane_year],
    )
    end = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_sane_year],
    )


class VenueTranslationForm(forms.ModelForm):
    """A venue's texts in one more language (the admin's inline): Serbian once, as "sr" in
    either script; not the venue's own language."""

    language = forms.ChoiceField(label=_("Language"), choices=translated.translatable_languages)

    class Meta:
        model = VenueTranslation
        fields = ["language", "name", "address", "accessibility"]
        help_texts = {
            "address": _("Empty: as in the original."),
            "accessibility": _("Empty: as in the original."),
        }

    def clean(self):
        data = super().clean()
        venue = getattr(self.instance, "venue", None)
        language = data.get("language")
        if venue is not None and language:
            # The rules the service applies when saving (krov.events.services.translate_venue),
            # checked here so that a refusal shows beside its field.
            try:
                if any(field in self.errors for field in VENUE_TEXT_FIELDS):
                    check_venue_translation(venue, language)
                else:
                    check_venue_texts(venue, language, data)
            except VenueTextError as error:
                self.add_error(error.field or "language", str(error))
        return data


class VenueTextsForm(forms.Form):
    """A venue's name, address and accessibility notes in each language it is not written
    in (the venues page): Serbian once, as "sr" in either script (the other is derived).
    All of a language's texts empty: no translation, the venue's own texts are shown; an
    empty address or note alone: as in the original. The rules are the service's
    (krov.events.services.translate_venue); this form only bounds what it reads."""

    LABELS = {
        "name": _("Name"),
        "address": _("Address"),
        "accessibility": _("Accessibility"),
    }

    def __init__(self, *args, venue: Venue, **kwargs) -> None:
        kwargs["prefix"] = f"venue-{venue.pk}"  # each venue's fields apart on one page
        super().__init__(*args, **kwargs)
        self.venue = venue
        current = {row.language: row for row in venue.translations.all()}
        self.languages: list[tuple[str, str]] = []
        for code, name in translated.translatable_languages():
            if translated.same_language(code, venue.language):
                continue
            self.languages.append((code, str(name)))
            row = current.get(code)
            for part in VENUE_TEXT_FIELDS:
                field = forms.CharField(
                    label=self.LABELS[part],
                    max_length=VENUE_TEXT_LIMITS[part],
                    required=False,
                    initial=getattr(row, part, ""),
                    widget=forms.Textarea(attrs={"rows": 3})
                    if part == "accessibility"
                    else forms.TextInput(),
                )
                # Typed in that language: a screen reader and a spell checker know.
                field.widget.attrs["lang"] = code
                self.fields[self.field_name(code, part)] = field

    @staticmethod
    def field_name(language: str, part: str) -> str:
        return f"{language}-{part}"

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(language, its name, its bound fields): one fieldset each on the page."""
        return [
            (code, name, [self[self.field_name(code, part)] for part in VENUE_TEXT_FIELDS])
            for code, name in self.languages
        ]

    def texts(self) -> dict[str, dict[str, str]]:
        """What was typed, by language, for `translate_venue`: the form's languages, and any
        other language the request names in this form's fields (so that the service refuses
        it rather than the page ignoring it)."""
        found = {
            code: {
                part: self.cleaned_data[self.field_name(code, part)] for part in VENUE_TEXT_FIELDS
            }
            for code, _name in self.languages
        }
        start = f"{self.prefix}-"
        for key in self.data:
            if not key.startswith(start):
                continue
            code, _dash, part = key[len(start) :].rpartition("-")
            if code and part in VENUE_TEXT_FIELDS and code not in found and len(found) < 20:
                found[code] = {
                    field: str(self.data.get(f"{start}{code}-{field}", ""))[:10_000]
                    for field in VENUE_TEXT_FIELDS
                }
        return found

    def refuse(self, error: VenueTextError) -> None:
        """Show the service's refusal beside the text it is about, else above the form."""
        name = self.field_name(error.language, error.field) if error.field else None
        if name not in self.fields:
            name = None
        self.add_error(name, str(error))
