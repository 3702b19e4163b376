"""krov.core.oldslugs: a page's old slug answers 301 to its current one, on every URL of it,
and the data migrations that remade Russian and Ukrainian slugs keep the old ones working."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from krov.bulletins import services as bulletins
from krov.core import oldslugs
from krov.core.models import OldSlug
from krov.directory import services as directory
from krov.events import services as events
from krov.events.models import Event

pytestmark = pytest.mark.django_db


def _migration(app: str, name: str):
    return importlib.import_module(f"krov.{app}.migrations.{name}")


def test_a_renamed_slug_leads_to_the_newest_and_never_in_a_circle():
    oldslugs.record("events.event", "a", "b")
    oldslugs.record("events.event", "b", "c")
    assert oldslugs.current_slug("events.event", "a") == "c"
    assert oldslugs.current_slug("events.event", "b") == "c"
    oldslugs.record("events.event", "c", "a")
    assert oldslugs.current_slug("events.event", "a") is None
    assert oldslugs.current_slug("events.event", "c") == "a"
    assert oldslugs.current_slug("bulletins.post", "a") is None


def _russian_event(organiser) -> Event:
    starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
    event = events.create_event(
        actor=organiser,
        title="Как открыть счёт в банке",
        language="ru",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    events.publish(event, actor=organiser)
    return event


def test_an_event_made_under_the_old_rule_gets_the_new_slug_and_its_old_urls_redirect(personas):
    event = _russian_event(personas["organiser"].user)
    date = timezone.localtime(event.starts_at).strftime("%Y-%m-%d")
    assert event.slug == f"kak-otkryt-schet-v-banke-{date}"
    old = f"kak-otkrt-sct-v-banke-{date}"  # what the old rule made
    Event.objects.filter(pk=event.pk).update(slug=old)

    _migration("events", "0009_remake_slugs").remake(apps, None)

    event.refresh_from_db()
    assert event.slug == f"kak-otkryt-schet-v-banke-{date}"
    client = Client()
    for url, new in [
        (f"/ru/events/{old}/", f"/ru/events/{event.slug}/"),
        (f"/sr-latn/events/{old}/rsvp/", f"/sr-latn/events/{event.slug}/rsvp/"),
        (f"/events/{old}.ics", f"/events/{event.slug}.ics"),
    ]:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (301, new)
    assert client.get(f"/ru/events/{event.slug}/").status_code == 200
    assert client.get("/ru/events/no-such-event/").status_code == 404


def test_a_slug_typed_by_hand_is_left_alone(personas):
    editor = personas["editor"].user
    post = bulletins.create_post(
        actor=editor, language="ru", title="Как открыть счёт", body="Текст", slug="bank-guide"
    )
    _migration("bulletins", "0005_remake_slugs").remake(apps, None)
    post.refresh_from_db()
    assert post.slug == "bank-guide"
    assert not OldSlug.objects.exists()


def test_old_bulletin_organisation_and_guide_slugs_redirect(personas):
    editor, reviewer = personas["editor"].user, personas["organiser"].user
    post = bulletins.create_post(actor=editor, language="uk", title="Як відкрити рахунок", body="Т")
    org = directory.approve(
        directory.propose(
            actor=personas["member"].user,
            data={
                "name": "Антивоенная инициатива",
                "language": "ru",
                "kind": "initiative",
                "city": "Beograd",
                "description": "",
                "areas": ["protest"],
                "languages": ["ru"],
            },
        ),
        actor=reviewer,
    )
    guide = directory.save_guide(
        None,
        actor=reviewer,
        language="ru",
        topic="arriving",
        title="Безвизовое пребывание",
        body="Текст",
        verify_by=timezone.localdate() + timedelta(days=30),
    )
    assert (post.slug, org.slug, guide.slug) == (
        "yak-vidkryty-rakhunok",
        "antivoennaya-initsiativa",
        "bezvizovoe-prebyvanie",
    )
    type(post).objects.filter(pk=post.pk).update(slug="k-vdkriti-rahunok")
    type(org).objects.filter(pk=org.pk).update(slug="antivoenna-iniciativa")
    type(guide).objects.filter(pk=guide.pk).update(slug="bezvizovoe-prebvanie")

    _migration("bulletins", "0005_remake_slugs").remake(apps, None)
    _migration("directory", "0002_remake_slugs").remake(apps, None)

    client = Client()
    for url, new in [
        ("/uk/bulletins/k-vdkriti-rahunok/", f"/uk/bulletins/{post.slug}/"),
        ("/ru/directory/antivoenna-iniciativa/", f"/ru/directory/{org.slug}/"),
        ("/ru/guides/bezvizovoe-prebvanie/?x=1", f"/ru/guides/{guide.slug}/?x=1"),
    ]:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (301, new)
