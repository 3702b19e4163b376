from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krov.housing import contacts
from krov.housing.models import LANGUAGES_SPOKEN, District, Flag, Listing
from krov.housing.parsing import parse_month
from krov.housing.services import MAX_MESSAGE, SORTS


class DistrictChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: District) -> str:  # type: ignore[override]
        return obj.name()


def _districts():
    return District.objects.filter(active=True)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(f, initial) for f in files]


class ListingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Listing.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    language = forms.ChoiceField(label=_("Written in"), choices=settings.LANGUAGES)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=4000,
        help_text=_("No phone numbers or addresses: people write to you through Krov."),
    )
    district = DistrictChoiceField(label=_("District"), queryset=_districts())
    location_hint = forms.CharField(
        label=_("Street or area"),
        max_length=120,
        required=False,
        help_text=_("Shown publicly. A street or a landmark, never the house number."),
    )
    size_m2 = forms.DecimalField(
        label=_("Size (m²)"), max_digits=7, decimal_places=1, min_value=Decimal("0.1")
    )
    rooms = forms.DecimalField(
        label=_("Rooms"), max_digits=3, decimal_places=1, min_value=Decimal("0.5")
    )
    rent = forms.DecimalField(
        label=_("Monthly rent"), max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Listing.Currency.choices)
    deposit = forms.DecimalField(
        label=_("Deposit"), max_digits=10, decimal_places=2, min_value=0, required=False
    )
    furnished = forms.BooleanField(label=_("Furnished"), required=False)
    pets = forms.BooleanField(label=_("Pets allowed"), required=False)
    available_from = forms.DateField(
        label=_("Available from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages the landlord speaks"),
        choices=list(LANGUAGES_SPOKEN.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    photos = PhotosField(
        label=_("Photos (JPEG, PNG or WebP, up to 8)"),
        required=False,
        help_text=_("Location data and camera details are removed from photos."),
    )

    def __init__(self, *args, keep_date=None, **kwargs):
        self.keep_date = keep_date  # an edit may keep a date that is now in the past
        super().__init__(*args, **kwargs)
        self.fields["size_m2"].error_messages["min_value"] = _("The size must be more than 0 m².")
        self.fields["rent"].error_messages["min_value"] = _("The rent must be more than 0.")
        self.fields["deposit"].error_messages["min_value"] = _("The deposit cannot be negative.")

    def _no_contact(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        found = contacts.find_contact(value)
        if found is not None:
            raise forms.ValidationError(
                _(
                    "%(found)s Krov never shows phone numbers, email addresses or messenger "
                    "names on the board: people write to you through Krov. Please remove it."
                )
                % {"found": found.message() % {"found": found.text}}
            )
        return value

    def clean_title(self) -> str:
        return self._no_contact("title")

    def clean_description(self) -> str:
        return self._no_contact("description")

    def clean_location_hint(self) -> str:
        return self._no_contact("location_hint")

    def clean_available_from(self):
        value = self.cleaned_data["available_from"]
        if value < timezone.localdate() and value != self.keep_date:
            raise forms.ValidationError(_("The date is in the past."))
        return value


class FilterForm(forms.Form):
    district = DistrictChoiceField(
        label=_("District"), queryset=_districts(), required=False, empty_label=_("Any district")
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Listing.Kind.choices]
    )
    rooms = forms.DecimalField(label=_("Rooms at least"), required=False, min_value=0)
    rent_min = forms.DecimalField(label=_("Rent from (EUR)"), required=False, min_value=0)
    rent_max = forms.DecimalField(label=_("Rent up to (EUR)"), required=False, min_value=0)
    size_min = forms.DecimalField(label=_("Size at least (m²)"), required=False, min_value=0)
    available_by = forms.DateField(
        label=_("Available by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    furnished = forms.BooleanField(label=_("Furnished"), required=False)
    pets = forms.BooleanField(label=_("Pets allowed"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Any language")), *LANGUAGES_SPOKEN.items()],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("new", _("Newest")),
            ("rent", _("Rent, lowest first")),
            ("-rent", _("Rent, highest first")),
            ("size", _("Size, largest first")),
            ("available", _("Available soonest")),
        ],
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("rent_min"), data.get("rent_max")
        if low is not None and high is not None and low > high:
            self.add_error("rent_max", _("The upper rent is below the lower one."))
        if data.get("sort") and data["sort"] not in SORTS:
            self.add_error("sort", _("Unknown sorting."))
        return data


class FlagForm(forms.Form):
    reason = forms.ChoiceField(label=_("What is wrong?"), choices=Flag.Reason.choices)
    note = forms.CharField(label=_("Details (optional)"), max_length=300, required=False)


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_MESSAGE
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class FairRentForm(forms.Form):
    district = DistrictChoiceField(label=_("District"), queryset=_districts())
    size_m2 = forms.DecimalField(
        label=_("Size (m²)"), max_digits=7, decimal_places=1, min_value=Decimal("1")
    )
    rent = forms.DecimalField(
        label=_("Monthly rent"), max_digits=10, decimal_places=2, min_value=Decimal("1")
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Listing.Currency.choices)


class BaseMonthForm(forms.Form):
    base = forms.RegexField(
        label=_("Compare with (month)"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": _("Write the month as 2022-02.")},
        widget=forms.TextInput(attrs={"type": "month"}),
    )

    def clean_base(self):
        """The month as a date, through the one month parser (its bounds included)."""
        raw = self.cleaned_data.get("base")
        if not raw:
            return None
        try:
            return parse_month(raw)
        except ValueError:
            raise forms.ValidationError(
                _("Choose a month between 1900 and 2200, written as 2022-02.")
            ) from None


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: date, district, size_m2, rent, currency, source. UTF-8, comma or "
            "semicolon separated."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    strict = forms.BooleanField(label=_("Import nothing if any row is rejected"), required=False)

    MAX_BYTES = 20 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large for the web form (20 MB at most); use krov import-rents.")
            )
        return upload
