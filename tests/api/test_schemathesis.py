"""Schemathesis against the live OpenAPI document, with all its checks: generated requests,
those the document calls valid and those it calls invalid, must never get a 5xx, an answer
the document does not declare or that breaks its schema, a refusal of a valid request or
an acceptance of an invalid one.

Schemathesis' lazy pytest loader does not yet work with pytest 9, so the test loads the
schema from the live server itself and runs each operation's strategy with hypothesis."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.django_db(transaction=True)

# Every check with its defaults, except that a request too long to read (414, declared in
# the document) also counts as refusing invalid data.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": ["400", "404", "405", "406", "414", "422", "429"]
            }
        }
    }
)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_never_errs_and_keeps_to_its_schema(live_server, settings, data, mode):
    settings.KROV_API_PER_MINUTE = 100_000
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
            ],
        )
        def check(case):
            case.call_and_validate()  # every check schemathesis has, none left out

        check()
    # The generated requests reached real data, not only 404s.
    detail = schema["/api/v1/events/{slug}"]["GET"]
    response = detail.Case(path_parameters={"slug": data["event"].slug}).call()
    assert response.status_code == 200
