"""The web intake at /<lang>/help/ and the requester's secret link."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krov.aid import services
from krov.aid.models import HelpRequest, Message

pytestmark = pytest.mark.django_db


def form_page(client: Client, lang: str = "uk"):
    with translation.override(lang):
        url = reverse("aid:request")
    response = client.get(url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    return url, soup


def form_data(soup, **overrides) -> dict:
    data = {
        "language": "uk",
        "skill": soup.select_one("select[name=skill] option")["value"],
        "description": "Мамі погано, вона не може вести авто. Навчіть мене водити.",
        "urgency": "2",
        "region": "Kharkiv oblast",
        "submission_key": soup.select_one("input[name=submission_key]")["value"],
        "website": "",
    }
    data.update(overrides)
    return data


def test_form_states_what_is_stored_for_how_long_and_the_length_limit():
    _url, soup = form_page(Client(), "en")
    notice = soup.select_one("section.notice").get_text(" ")
    assert "30 days" in notice
    assert "IP address" in notice
    textarea = soup.select_one("textarea[name=description]")
    assert textarea["maxlength"] == "4000"
    assert "4000" in soup.select_one("#id_description_helptext").get_text()


def test_submitting_the_form_gives_a_case_code_and_a_secret_link():
    client = Client()
    url, soup = form_page(client)
    response = client.post(url, form_data(soup))
    assert response.status_code == 302
    case_url = response["Location"]
    assert "/uk/help/c/" in case_url
    request = HelpRequest.objects.get()
    assert request.language == "uk" and request.channel == "web"
    assert request.description.startswith("Мамі погано")
    page = client.get(case_url)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    soup = BeautifulSoup(page.content, "html.parser")
    assert request.code in soup.h1.get_text()
    token = case_url.split("/help/c/")[1].split("/")[0]
    assert token in soup.select_one("code.secret-link").get_text()
    assert request.token_hash != token and token not in request.token_hash


def test_double_submission_creates_one_request_and_the_same_link():
    client = Client()
    url, soup = form_page(client)
    data = form_data(soup)
    first = client.post(url, data)
    second = client.post(url, data)
    assert HelpRequest.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_honeypot_stores_nothing_but_answers_like_success():
    client = Client()
    url, soup = form_page(client)
    response = client.post(url, form_data(soup, website="http://spam.example"))
    assert response.status_code == 200
    assert HelpRequest.objects.count() == 0


@override_settings(KROV_INTAKE_PER_HOUR=2)
def test_rate_limit_answers_429_with_the_text_kept_in_the_form():
    client = Client()
    url, soup = form_page(client, "en")
    for _ in range(2):
        _url, soup = form_page(client, "en")
        assert client.post(url, form_data(soup)).status_code == 302
    _url, soup = form_page(client, "en")
    response = client.post(url, form_data(soup, description="третій запит"))
    assert response.status_code == 429
    page = BeautifulSoup(response.content, "html.parser")
    assert "Too many requests" in page.select_one(".errors").get_text()
    assert page.select_one("textarea[name=description]").get_text().strip() == "третій запит"
    assert HelpRequest.objects.count() == 2


def test_empty_text_is_refused_with_a_reason():
    client = Client()
    url, soup = form_page(client, "en")
    response = client.post(url, form_data(soup, description="   "))
    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one(".has-error .error")
    assert HelpRequest.objects.count() == 0


def test_oversized_text_is_refused_and_names_the_limit():
    client = Client()
    url, soup = form_page(client, "en")
    response = client.post(url, form_data(soup, description="x" * 4001))
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select_one(".has-error .error")
    assert "4000" in errors.get_text()
    assert HelpRequest.objects.count() == 0


def test_a_language_we_do_not_serve_falls_back_and_keeps_the_request():
    client = Client()
    url, soup = form_page(client, "en")
    response = client.post(url, form_data(soup, language="tlh"))
    assert response.status_code == 302
    assert HelpRequest.objects.get().language == "en"


def test_unknown_skill_is_a_clear_400():
    client = Client()
    url, soup = form_page(client, "en")
    response = client.post(url, form_data(soup, skill="999999"))
    assert response.status_code == 400
    assert HelpRequest.objects.count() == 0


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 500, "%00", "../../etc/passwd"])
def test_invalid_tokens_get_a_plain_404(token):
    client = Client()
    with translation.override("uk"):
        response = client.get(f"/uk/help/c/{token}/")
    assert response.status_code == 404


def test_requester_reads_the_volunteer_answer_under_the_case_alias_only(active_case):
    case, token, volunteer = active_case
    services.post_reply(case, actor=volunteer.user, body="Добрий день! Я допоможу.")
    client = Client()
    page = client.get(f"/uk/help/c/{token}/")
    text = BeautifulSoup(page.content, "html.parser").select_one("#conversation").get_text(" ")
    case.refresh_from_db()
    assert "Добрий день! Я допоможу." in text
    assert case.alias in text
    assert volunteer.user.pseudonym not in page.content.decode()
    assert volunteer.user.email not in page.content.decode()


def test_requester_answers_through_the_link(active_case):
    case, token, volunteer = active_case
    client = Client()
    response = client.post(f"/uk/help/c/{token}/", {"body": "Дякую, я в Харкові."})
    assert response.status_code == 302
    assert case.messages.filter(direction=Message.Direction.IN).count() == 1


def test_writing_to_a_closed_case_gets_a_polite_answer_and_a_new_request_link(active_case):
    case, token, volunteer = active_case
    services.close_case(case, actor=volunteer.user, outcome="helped")
    response = Client().post(f"/uk/help/c/{token}/", {"body": "Ще одне питання"})
    assert response.status_code == 409
    soup = BeautifulSoup(response.content, "html.parser")
    alert = soup.select_one("p.error[role=alert]")
    assert alert is not None and alert.select_one("a[href='/uk/help/']")
    assert case.messages.filter(direction=Message.Direction.IN).count() == 0


def test_requester_can_delete_everything_at_once(active_case):
    case, token, volunteer = active_case
    client = Client()
    assert client.post(f"/uk/help/c/{token}/forget/", {}).status_code == 302  # no confirmation
    assert HelpRequest.objects.get(pk=case.pk).purged_at is None
    response = client.post(f"/uk/help/c/{token}/forget/", {"confirm": "yes"})
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.purged_at is not None and case.description == ""
    assert case.outcome == "requester_gone"
    assert client.get(f"/uk/help/c/{token}/").status_code == 404


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    description=st.text(max_size=4100),
    region=st.text(max_size=250),
    language=st.text(max_size=20),
    urgency=st.text(max_size=4),
)
def test_any_form_input_gets_a_redirect_or_a_4xx_never_a_500(
    description, region, language, urgency
):
    client = Client(raise_request_exception=False)
    url, soup = form_page(client, "en")
    data = form_data(
        soup, description=description, region=region, language=language, urgency=urgency
    )
    response = client.post(url, data)
    assert response.status_code in {302, 400, 429}, response.status_code


def test_htmx_reply_to_a_case_closed_meanwhile_answers_409_with_the_reason(active_case):
    case, _token, volunteer = active_case
    services.close_case(case, actor=volunteer.user, outcome="helped")
    client = Client()
    client.force_login(volunteer.user, backend="krov.accounts.backends.KrovBackend")
    response = client.post(
        f"/en/aid/cases/{case.public_id}/reply/", {"body": "late"}, HTTP_HX_REQUEST="true"
    )
    # The volunteer still sees the closed case, so the answer says why the reply was refused.
    assert response.status_code == 409
    assert "closed" in response.content.decode()


def test_no_kind_of_help_is_chosen_for_the_requester_and_none_files_something_else():
    client = Client()
    url, soup = form_page(client, "en")
    options = soup.select("select[name=skill] option")
    assert options[0]["value"] == ""
    assert [o["value"] for o in options if o.has_attr("selected")] in ([], [""])
    response = client.post(url, form_data(soup, skill=""))
    assert response.status_code == 302
    assert HelpRequest.objects.get().skill.slug == "other"


def test_the_requester_sees_what_they_asked_on_their_page():
    client = Client()
    url, soup = form_page(client)
    response = client.post(url, form_data(soup))
    page = BeautifulSoup(client.get(response["Location"]).content, "html.parser")
    asked = page.select_one("details.your-request")
    assert asked.has_attr("open")  # shown at once on the first visit
    assert asked.select_one(".request-text").get_text().startswith("Мамі погано")


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("nobody", "/en/help/"),
        ("volunteer", "/en/aid/profile/"),
        ("coordinator", "/en/aid/volunteers/"),
    ],
)
def test_an_empty_post_is_answered_with_messages_not_a_bare_400(
    who, url, make_volunteer, coordinator
):
    """A form sent with nothing in it (a proxy that dropped the body, a double tap) says what
    is missing, field by field."""

    from tests.helpers import signed_in

    client = {
        "nobody": lambda: Client(),
        "volunteer": lambda: signed_in(make_volunteer("Veter").user),
        "coordinator": lambda: signed_in(coordinator),
    }[who]()
    response = client.post(url, {})
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select(".error")
    assert errors and all(e.get_text(strip=True) for e in errors)
