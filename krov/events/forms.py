from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from krov.core import translated
from krov.core.templatetags.scripts import lang_if_other
from krov.events.models import Event, Venue, VenueTranslation
from krov.events.services import venue_text, venues

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
        from krov.events.services import EventError, check_venue_translation

        data = super().clean()
        venue = getattr(self.instance, "venue", None)
        language = data.get("language")
        if venue is not None and language:
            try:
                check_venue_translation(venue, language)
            except EventError as error:
                self.add_error("language", str(error))
        return data
