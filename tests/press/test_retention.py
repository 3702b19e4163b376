"""Old press stories go: past KROV_PRESS_KEEP_DAYS (default 365) a story that answers
nothing is deleted by the nightly task (and by `krov purge`); one a bulletin answers stays
while that bulletin exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from krov.bulletins.models import Post
from krov.core import retention
from krov.press import parsing, services, tasks
from krov.press.models import Source, Story

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def vesti(db) -> Source:
    return services.add_source("https://vesti.example/rss", name="Vesti", language="sr")


@pytest.fixture
def story(vesti):
    """A stored story, published `age` ago (fetched now), about Russians (matched)."""
    count = iter(range(1000))

    def _story(age: timedelta, title: str = "Rusi u Beogradu") -> Story:
        guid = f"g{next(count)}"
        entry = parsing.Entry(
            guid=guid,
            link=f"https://vesti.example/{guid}",
            title=title,
            summary="",
            published_at=timezone.now() - age,
        )
        services.store_entries(vesti, [entry])
        return Story.objects.get(guid=guid)

    return _story


def remaining() -> set[str]:
    return set(Story.objects.values_list("guid", flat=True))


def a_year_on(days: int = 366):
    """A moment `days` after now: what was fetched now is that old then."""
    return timezone.now() + days * DAY


def test_stories_past_the_window_that_answer_nothing_are_deleted_with_their_matches(story):
    old = story(10 * DAY)
    unmatched = story(10 * DAY, title="Vreme sutra")
    assert old.terms.exists() and not unmatched.terms.exists()
    assert services.purge_old_stories(now=a_year_on()) == 2
    assert remaining() == set()
    assert not Story.terms.through.objects.exists()


def test_stories_inside_the_window_stay(story):
    story(10 * DAY)
    assert services.purge_old_stories(now=timezone.now() + 300 * DAY) == 0
    assert len(remaining()) == 1


def test_the_window_is_365_days_unless_set(story, settings):
    assert not hasattr(settings, "KROV_PRESS_KEEP_DAYS") or settings.KROV_PRESS_KEEP_DAYS == 365
    story(0 * DAY)
    assert services.purge_old_stories(now=timezone.now() + 364 * DAY) == 0
    assert services.purge_old_stories(now=timezone.now() + 366 * DAY) == 1


def test_a_shorter_window_from_the_setting(story, settings):
    settings.KROV_PRESS_KEEP_DAYS = 30
    story(40 * DAY)
    assert services.purge_old_stories(now=timezone.now() + 31 * DAY) == 1


def test_an_old_entry_fetched_recently_is_kept_for_the_window(story):
    """Published two years ago but fetched now: kept, so a feed that still lists it does
    not have it stored again and deleted again at every fetch."""
    story(730 * DAY)
    assert services.purge_old_stories(now=timezone.now() + 100 * DAY) == 0
    assert services.purge_old_stories(now=a_year_on()) == 1


def test_a_story_answered_by_a_published_bulletin_stays(story, editor, publish):
    answered = story(10 * DAY)
    post = services.answer_with_bulletin(answered, actor=editor, language="en")
    publish(post, author=editor)
    story(10 * DAY)  # answers nothing
    assert services.purge_old_stories(now=a_year_on(800)) == 1
    assert remaining() == {answered.guid}
    assert Story.objects.with_state().get().state == Story.Status.ANSWERED


def test_a_story_whose_answer_is_still_a_draft_stays(story, editor):
    answered = story(10 * DAY)
    services.answer_with_bulletin(answered, actor=editor, language="en")
    assert services.purge_old_stories(now=a_year_on()) == 0
    assert remaining() == {answered.guid}


def test_a_story_goes_once_its_bulletin_is_gone(story, editor):
    answered = story(10 * DAY)
    post = services.answer_with_bulletin(answered, actor=editor, language="en")
    Post.objects.filter(pk=post.pk).delete()
    assert services.purge_old_stories(now=a_year_on()) == 1
    assert remaining() == set()


def test_a_story_marked_answered_without_a_bulletin_is_not_kept(story, editor):
    marked = story(10 * DAY)
    services.set_status(marked, actor=editor, status=Story.Status.ANSWERED)
    assert services.purge_old_stories(now=a_year_on()) == 1


def test_many_old_stories_go_in_batches(story, monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH", 2)
    for _ in range(5):
        story(10 * DAY)
    assert services.purge_old_stories(now=a_year_on()) == 5
    assert remaining() == set()


def test_krov_purge_applies_the_press_rule(story):
    story(10 * DAY)
    assert "press" in retention.rules()
    with time_machine.travel(a_year_on(), tick=False):
        assert retention.apply_all()["press"] == 1
    assert remaining() == set()


def test_the_nightly_task_deletes_old_stories(story):
    from huey.api import PeriodicTask

    story(10 * DAY)
    assert isinstance(tasks.purge_old_stories.task_class(), PeriodicTask)
    with time_machine.travel(a_year_on(), tick=False):
        tasks.purge_old_stories.call_local()
    assert remaining() == set()
