"""Core services: key rotation, and the Serbian script conversion and slugs other apps build on
(the tables are in krov.core.scripts)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connections, transaction

from krov.core import audit, crypto, scripts
from krov.core.fields import encrypted_fields
from krov.core.models import AuditEvent

log = logging.getLogger(__name__)

BATCH = 500


def rotate_field_keys(*, actor=None, using: str = "default") -> dict[str, int]:
    """Re-encrypt every encrypted column under the newest key in KROV_FIELD_KEYS.

    Works on the raw column (the ciphertext) so no plaintext passes through model code.
    Each table is rotated in one transaction; running it twice is harmless.
    Returns the number of values re-encrypted per "app_label.Model.field".
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    counts: dict[str, int] = {}
    for model, field in encrypted_fields():
        label = f"{model._meta.label}.{field.name}"
        table, column = model._meta.db_table, str(field.column)
        pk = str(model._meta.pk.column) if model._meta.pk else "id"
        done = 0
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} "  # noqa: S608 - quoted names
                f"WHERE {qn(column)} IS NOT NULL ORDER BY {qn(pk)}"
            )
            rows = cursor.fetchall()
            for start in range(0, len(rows), BATCH):
                updates = [
                    (crypto.rotate(token), key) for key, token in rows[start : start + BATCH]
                ]
                cursor.executemany(
                    f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s",  # noqa: S608
                    updates,
                )
                done += len(updates)
        counts[label] = done
        log.info("rotated %s values of %s", done, label)
    for label, rotator in _rotators.items():
        counts[label] = rotator(using=using)
        log.info("rotated %s values of %s", counts[label], label)
    audit.record(AuditEvent.Kind.KEYS_ROTATED, actor=actor, fields=counts)
    return counts


# Values encrypted outside Krov's own fields (e.g. allauth's TOTP secrets): label -> function
# that re-encrypts them under the newest key and returns how many it did.
_rotators: dict[str, Callable[..., int]] = {}


def register_rotator(label: str, rotator: Callable[..., int]) -> None:
    _rotators[label] = rotator


def interface_languages() -> list[str]:
    """The codes of the languages Krov speaks (settings.LANGUAGES), read when asked: the one
    list every app checks content languages against."""
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES]


def to_latin(text: str) -> str:
    """Serbian Cyrillic to Latin (ЉУБАВ → LJUBAV; other letters, markup and placeholders are
    left as they are)."""
    return scripts.to_latin(text)


def to_cyrillic(text: str) -> str:
    """Serbian Latin to Cyrillic: LJ/Lj/lj, NJ, DŽ read as one letter in any case, known
    two-letter words (nadživeti, injekcija) respected; addresses, markup, placeholders and
    words with letters Serbian lacks are left as they are."""
    return scripts.to_cyrillic(text)


def in_page_script(text: str, *, language: str | None = None, page: str | None = None) -> str:
    """`text` as the page in `page` (default: the active language) shows it: Serbian text
    in the page's script on "sr" and "sr-latn" pages, anything else as it is. `language` is
    the text's own language when it is stored (a text row's, a listing's); without it the
    letters decide (Russian and Ukrainian are never converted as if Serbian)."""
    from django.utils.translation import get_language

    return scripts.in_page_script(text, page or get_language(), language=language)


def slug_text(text: str, *, language: str | None = None, max_length: int = 60) -> str:
    """The slug of `text` written in `language`: Russian and Ukrainian romanised by their
    own rules ("Как открыть счёт" → "kak-otkryt-schet"), Serbian with đ as "dj"."""
    return scripts.slug_text(text, language, max_length=max_length)


def serbian_twin(language: str) -> tuple[str, Callable[[str], str]] | None:
    """For text written in one Serbian script: the other script's language code and the
    conversion to it (the one pairing of Krov); None for every other language."""
    return {"sr": ("sr-latn", to_latin), "sr-latn": ("sr", to_cyrillic)}.get(language)


def unique_slug(
    model,
    text: str,
    *,
    fallback: str,
    max_length: int = 60,
    language: str | None = None,
    routes: tuple[str, ...] = (),
) -> str:
    """A URL name for a new `model` row from `text` (any script, see `slug_text`), with a
    short random suffix when the plain one is taken. The one slug rule of Krov.

    `routes`: the URL names that take the slug (`"bulletins:detail"`, ...). A slug is taken,
    too, when one of them would answer with another page: a bulletin called "feed" would
    get the Atom feed's address, one called "tags" the newsroom's tags page."""
    import secrets

    base = slug_text(text, language=language, max_length=max_length) or fallback
    candidate = base
    while model._default_manager.filter(slug=candidate).exists() or not _routes_free(
        candidate, routes
    ):
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


def _routes_free(slug: str, routes: tuple[str, ...]) -> bool:
    """Whether every route in `routes`, given `slug`, leads to its own view (not to a fixed
    page of the same shape listed before it, like bulletins/feed/)."""
    from django.conf import settings
    from django.urls import resolve, reverse
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        # A route that cannot take a slug at all is a mistake at the call site: it raises
        # NoReverseMatch rather than making every candidate taken.
        return all(
            resolve(reverse(route, kwargs={"slug": slug})).view_name == route for route in routes
        )
