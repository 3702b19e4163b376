"""A new page never gets a slug whose address already belongs to a fixed page of the same
shape (bulletins/feed/, bulletins/editor/tags/, guides/new/, directory/review/): the one
slug rule (`unique_slug`) asks the URL resolver, so a route added later is covered too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch
from django.utils import timezone

from krov.bulletins import services as bulletins
from krov.core.services import unique_slug
from krov.directory import services as directory
from krov.directory.models import Organisation
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("title", ["Tags", "Feed", "Podcast", "Search", "Editor"])
def test_a_bulletin_named_like_a_fixed_page_gets_a_slug_of_its_own(personas, title):
    editor = personas["editor"].user
    post = bulletins.create_post(
        actor=editor, language="en", title=title, summary="S", body="Body", tags=[]
    )
    assert post.slug.startswith(title.lower() + "-")
    answer = signed_in(editor).get(f"/en/bulletins/editor/{post.slug}/")
    assert answer.status_code == 200
    assert title in answer.content.decode()


def test_a_bulletin_with_an_ordinary_title_keeps_its_plain_slug(personas):
    post = bulletins.create_post(
        actor=personas["editor"].user,
        language="en",
        title="Tags of the week",
        summary="S",
        body="Body",
        tags=[],
    )
    assert post.slug == "tags-of-the-week"


def test_a_guide_called_new_does_not_take_the_new_guide_forms_address(personas):
    guide = directory.save_guide(
        None,
        actor=personas["organiser"].user,
        language="en",
        topic="arriving",
        title="New",
        body="## Step\n\nText.",
        verify_by=timezone.localdate() + timedelta(days=90),
    )
    assert guide.slug.startswith("new-")
    assert Client().get(f"/en/guides/{guide.slug}/").status_code == 200


@pytest.mark.parametrize("name", ["Review", "Propose"])
def test_an_organisation_named_like_a_directory_page_gets_a_slug_of_its_own(name):
    slug = unique_slug(
        Organisation, name, fallback="organisation", routes=("directory:organisation",)
    )
    assert slug.startswith(name.lower() + "-")


def test_a_mistyped_route_name_is_an_error_not_an_endless_search():
    assert unique_slug(Organisation, "Kuća", fallback="organisation", routes=()) == "kuca"
    with pytest.raises(NoReverseMatch):
        unique_slug(Organisation, "Kuća", fallback="organisation", routes=("directory:nope",))
