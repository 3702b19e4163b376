from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import slug_unicode_re
from django.utils.translation import gettext_lazy as _

from krov.bulletins.models import Tag

TAG_SLUG_LENGTH = Tag._meta.get_field("slug").max_length or 40


def tag_slug(raw: object) -> str | None:
    """`raw` (a tag's slug as a request names it: the tag filter's `tag`, the tags page's
    form) when it can be one: letters, digits, hyphens and underscores, no longer than the
    column; else None, and no query is made for it. A NUL character, which PostgreSQL text
    cannot hold, made the page fail (500); a slug too long named the tag it began with."""
    text = raw if isinstance(raw, str) else ""
    if len(text) > TAG_SLUG_LENGTH or not slug_unicode_re.match(text):
        return None
    return text


class TagSearchForm(forms.Form):
    """The tags page's search (`?q=`): at most as long as a name. Like every Django text
    field it refuses a NUL character (PostgreSQL text cannot hold one), with a message."""

    q = forms.CharField(
        label=_("Find a tag"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class VersionForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=400, required=False)
    body = forms.CharField(label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 12}))
    tags = forms.CharField(label=_("Tags (comma-separated)"), max_length=300, required=False)

    def tag_names(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]


class ApproveForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish at (empty: now)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class EditVersionForm(VersionForm):
    """The editor's page: one language's text and the transcript of its recording."""

    transcript = forms.CharField(
        label=_("Transcript of the recording"),
        help_text=_(
            "What the recording says, in this language: for listeners who cannot play sound "
            "where they are, for screen readers and for search. Serbian: write one script, "
            "the other follows."
        ),
        max_length=200_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


AUDIO_ACCEPT = "audio/*,.mp3,.m4a,.aac,.ogg,.opus,.oga,.wav,.flac"


class RecordingForm(forms.Form):
    recording = forms.FileField(
        label=_("Recording"),
        help_text=_("MP3, M4A (AAC), Ogg (Opus), WAV or FLAC."),
        widget=forms.ClearableFileInput(attrs={"accept": AUDIO_ACCEPT}),
    )


class TagTranslationForm(forms.Form):
    """A tag's name in each language it is not written in (Serbian once: its Latin is
    derived). An empty field: the tag's own name is shown in that language."""

    def __init__(self, *args, tag, **kwargs):
        from krov.core import translated

        super().__init__(*args, prefix=f"tag-{tag.pk}", **kwargs)
        self.tag = tag
        current = {row.language: row.name for row in tag.translations.all()}
        for code, name in translated.translatable_languages():
            if tag.language and translated.same_language(code, tag.language):
                continue
            self.fields[code] = forms.CharField(
                label=name, max_length=60, required=False, initial=current.get(code, "")
            )
            # The name is typed in that language: a screen reader and a spell checker know.
            self.fields[code].widget.attrs["lang"] = code
