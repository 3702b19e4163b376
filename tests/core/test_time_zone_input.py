"""krov.core.inputs: the one check of a time zone's name, for venues, events and volunteers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from krov.core.inputs import is_time_zone, validate_time_zone


@pytest.mark.parametrize("zone", ["Europe/Belgrade", "Europe/Kyiv", "UTC", "America/New_York"])
def test_known_zones_pass(zone):
    assert is_time_zone(zone)
    validate_time_zone(zone)


@pytest.mark.parametrize(
    "zone",
    [
        "",
        "Europe",  # folders of zones: IsADirectoryError
        "Etc",
        "America/Argentina",
        "Europe/__pycache__",
        "Europe/Belgrad",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/Belgrade\x00",
        "x" * 65,
        None,
        3,
    ],
)
def test_unknown_or_malformed_zones_are_refused_with_a_message(zone):
    assert not is_time_zone(zone)
    with pytest.raises(ValidationError) as refused:
        validate_time_zone(zone)
    assert "Europe/Belgrade" in str(refused.value.messages[0])


@given(st.text(max_size=80))
def test_any_text_gets_an_answer_never_an_exception(text):
    assert is_time_zone(text) in (True, False)
