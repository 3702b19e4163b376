"""The OpenAPI document (krov.api.api.KrovAPI) promises what the API does: a valid document
(openapi-spec-validator), every answer an operation can give declared with its body and
headers, and the rules for dates and months written as patterns the server keeps to."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec():
    return Client().get("/api/v1/openapi.json").json()


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _resolve(spec, schema: dict) -> dict:
    name = schema["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name]


def test_the_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_operation_declares_every_answer_the_api_can_give(spec):
    for label, operation in _operations(spec):
        responses = operation["responses"]
        assert {"200", "304", "400", "414", "422", "429"} <= set(responses), label
        for status in ("400", "414", "429"):
            body = responses[status]["content"]["application/json"]["schema"]
            assert _resolve(spec, body)["required"] == ["detail"], (label, status)
        errors = responses["422"]["content"]["application/json"]["schema"]
        assert _resolve(spec, errors)["properties"]["detail"]["type"] == "array"
        retry = responses["429"]["headers"]["Retry-After"]
        assert retry["required"] is True and retry["schema"]["type"] == "integer"
        assert "ETag" in responses["200"]["headers"]
        if "{" in label:  # one thing by its name: it may not exist
            assert "404" in responses, label


def test_declared_answers_are_the_ones_given(data, settings):
    """Each common answer, provoked, has the body its declaration promises."""
    client = Client()
    too_long = client.get("/api/v1/events?tag=" + "x" * 3000)
    assert too_long.status_code == 414 and too_long.json()["detail"]
    invalid = client.get("/api/v1/events?lang=tlh")
    assert invalid.status_code == 422
    (error,) = invalid.json()["detail"]
    assert {"loc", "msg", "type"} <= set(error)
    first = client.get("/api/v1/events")
    assert client.get("/api/v1/events", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    settings.KROV_API_PER_MINUTE = 1
    limited = client.get("/api/v1/bulletins")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1 and limited.json()["detail"]


def _parameter(spec, path: str, name: str) -> dict:
    (parameter,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/events", "since"),
        ("/api/v1/events", "until"),
        ("/api/v1/bulletins", "since"),
        ("/api/v1/bulletins", "until"),
    ],
)
def test_date_parameters_say_their_format_and_years(spec, path, name):
    schema = _parameter(spec, path, name)
    assert schema["type"] == "string" and schema["format"] == "date"
    pattern = re.compile(schema["pattern"])
    for good in ("1900-01-01", "2026-03-01", "2200-12-31"):
        assert pattern.search(good), good
    for bad in ("1899-12-31", "2201-01-01", "1700000000", "2026-3-1", "2026-13-01"):
        assert not pattern.search(bad), bad


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/rents", "month"), ("/api/v1/rents", "base"), ("/api/v1/rents/{area}", "since")],
)
def test_month_parameters_say_yyyy_mm(spec, path, name):
    pattern = re.compile(_parameter(spec, path, name)["pattern"])
    assert pattern.search("2022-02")
    for bad in ("2022-2", "202202", "2022-13", "1899-12", " 2022-02", "2022-02-01"):
        assert not pattern.search(bad), bad


def test_optional_parameters_are_never_null_in_a_query_string(spec):
    for label, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            assert "anyOf" not in parameter["schema"], (label, parameter["name"])


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/events?since=1700000000",
        "/api/v1/events?until=1700000000.5",
        "/api/v1/bulletins?since=1700000000",
        "/api/v1/bulletins?until=0",
        "/api/v1/rents?month=202202",
        "/api/v1/rents/city?since=1643673600",
    ],
)
def test_numeric_timestamps_are_refused_where_a_date_is_expected(data, query):
    response = Client().get(query)
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/events?since=1899-12-31",
        "/api/v1/events?until=2201-01-01",
        "/api/v1/rents?month=2201-01",
        "/api/v1/rents?base=",
    ],
)
def test_what_the_patterns_forbid_is_refused(data, query):
    assert Client().get(query).status_code == 422


def test_a_day_the_calendar_lacks_is_a_declared_400(data):
    response = Client().get("/api/v1/events?since=2026-02-30")
    assert response.status_code == 400
    assert response.json() == {"detail": "This day does not exist in the calendar."}


def test_dates_in_range_are_accepted(data):
    for query in ("since=1900-01-01", "until=2200-12-31", "since=2026-02-28&until=2026-03-01"):
        assert Client().get(f"/api/v1/events?{query}").status_code == 200, query


def test_links_in_answers_come_from_the_site_url(data, settings):
    settings.KROV_SITE_URL = "https://krov.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    event = Client().get("/api/v1/events", HTTP_HOST="attacker.example").json()["results"][0]
    assert event["url"] == f"https://krov.example.org/en/events/{event['slug']}/"
    assert event["ics_url"] == f"https://krov.example.org/events/{event['slug']}.ics"
