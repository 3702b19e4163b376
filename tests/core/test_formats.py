"""Krov's date formats (krov/core/formats): each language's own grammar, a 24-hour clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.formats import date_format

MOMENT = datetime(2026, 12, 5, 19, 30, tzinfo=ZoneInfo("Europe/Belgrade"))


@pytest.mark.parametrize(
    ("language", "date", "datetime_", "month_day"),
    [
        ("ru", "5 декабря 2026", "5 декабря 2026, 19:30", "5 декабря"),
        ("uk", "5 грудня 2026", "5 грудня 2026, 19:30", "5 грудня"),
        ("sr", "5. децембар 2026.", "5. децембар 2026. 19:30", "5. децембар"),
        ("sr-latn", "5. decembar 2026.", "5. decembar 2026. 19:30", "5. decembar"),
        ("en", "5 December 2026", "5 December 2026, 19:30", "5 December"),
        ("de", "5. Dezember 2026", "5. Dezember 2026, 19:30", "5. Dezember"),
    ],
)
def test_named_formats_follow_each_languages_grammar(language, date, datetime_, month_day):
    with translation.override(language):
        assert date_format(MOMENT, "DATE_FORMAT") == date
        assert date_format(MOMENT, "DATETIME_FORMAT") == datetime_
        assert date_format(MOMENT, "MONTH_DAY_FORMAT") == month_day


@pytest.mark.parametrize("language", ["ru", "uk", "sr", "sr-latn", "en", "de"])
def test_every_language_uses_a_24_hour_clock(language):
    with translation.override(language):
        for name in ("TIME_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):
            assert "19:30" in date_format(MOMENT, name)
            assert "7:30" not in date_format(MOMENT, name).replace("19:30", "")
            assert "p.m." not in date_format(MOMENT, name)


def test_english_short_dates_cannot_be_read_month_first():
    with translation.override("en"):
        assert date_format(MOMENT, "SHORT_DATE_FORMAT") == "5 Dec 2026"


def test_templates_name_their_date_formats():
    """A date in a template names a format ("DATE_FORMAT"), or is the machine-readable date
    of a <time datetime>: never a pattern typed by hand, which is right in one language."""
    import re
    from pathlib import Path

    import krov

    root = Path(krov.__file__).parent
    pattern = re.compile(r"\|(?:date|time):[\"']([^\"']*)[\"']")
    # ...or the machine date of a <time datetime> without microseconds ('c' has them).
    allowed = re.compile(r"^(?:[A-Z_]+_FORMAT|l|D|Y-m-d\\TH:i:sO)$")
    offenders = []
    for path in root.rglob("templates/**/*.*"):
        for found in pattern.findall(path.read_text(encoding="utf-8")):
            if not allowed.match(found):
                offenders.append(f"{path.relative_to(root)}: {found}")
    assert offenders == []
