"""krov.core.notify: the outbox stores first, delivers once, retries, sweeps and forgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from krov.accounts import services
from krov.core import notify
from krov.core.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(personas):
    return personas["member"].user


GREETING = notify.define(
    "test_greeting", subject="Hello %(name)s", body="Something waits", params=("name",)
)


def test_a_notification_is_stored_and_sent_only_after_commit(
    member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = notify.notify(member, GREETING, params={"name": "Ana"}, link="/x/")
    stored = Notification.objects.get(pk=note.pk)
    assert stored.status == Notification.Status.PENDING
    assert stored.params == {"name": "Ana"} and not stored.subject and not stored.body
    assert not mail.outbox and len(callbacks) == 1
    callbacks[0]()
    [sent] = mail.outbox
    assert sent.to == [member.email] and sent.subject == "Hello Ana"
    assert sent.body.endswith("/x/")  # the site's address in front of the path
    assert Notification.objects.get(pk=note.pk).status == Notification.Status.SENT


def test_a_notice_takes_exactly_the_values_it_names(member):
    with pytest.raises(ValueError, match="takes"):
        notify.notify(member, GREETING, params={"name": "Ana", "case": "my story"})
    with pytest.raises(ValueError, match="takes"):
        notify.notify(member, GREETING)
    assert not Notification.objects.exists()


def test_delivering_twice_sends_once(member):
    note = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    assert notify.deliver(note.pk) is True
    assert notify.deliver(note.pk) is False
    assert len(mail.outbox) == 1


def test_a_failing_channel_is_retried_and_given_up_after_the_last_attempt(member, monkeypatch):
    def broken(notification):
        raise OSError("the mail server is down")

    monkeypatch.setattr(notify, "_send_email", broken)
    note = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    for _attempt in range(notify.MAX_ATTEMPTS):
        with pytest.raises(OSError):
            notify.deliver(note.pk)
    note.refresh_from_db()
    assert note.status == Notification.Status.FAILED and note.attempts == notify.MAX_ATTEMPTS
    assert notify.deliver(note.pk) is False  # no sixth try


def test_the_sweep_delivers_what_a_lost_nudge_left(member):
    fresh = Notification.objects.create(recipient=member, kind="t", subject="new", body="b")
    old = Notification.objects.create(
        recipient=member,
        kind="t",
        subject="old",
        body="b",
        created_at=timezone.now() - timedelta(minutes=5),
    )
    assert notify.sweep() == 1
    assert [m.subject for m in mail.outbox] == ["old"]
    assert Notification.objects.get(pk=fresh.pk).status == Notification.Status.PENDING
    assert Notification.objects.get(pk=old.pk).status == Notification.Status.SENT


def test_references_to_a_purged_case_are_forgotten(member):
    keep = Notification.objects.create(recipient=member, kind="t", subject="s", body="b")
    gone = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", link="/en/aid/cases/abc-123/"
    )
    offer = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", ref="offer:def-456"
    )
    assert notify.forget_references(["abc-123", "def-456", ""]) == 2
    assert set(Notification.objects.values_list("pk", flat=True)) == {keep.pk}
    assert not Notification.objects.filter(pk__in=[gone.pk, offer.pk]).exists()


def test_delivered_notifications_go_after_a_week_failed_after_a_month(member):
    sent = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", status=Notification.Status.SENT
    )
    failed = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", status=Notification.Status.FAILED
    )
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert notify.purge_delivered() == 1
    assert not Notification.objects.filter(pk=sent.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert notify.purge_delivered() == 1
    assert not Notification.objects.filter(pk=failed.pk).exists()


# --- written when delivered, in the recipient's language, through their channel -------------

WAITING = notify.define(
    "test_waiting",
    subject=gettext_lazy("Krov: something new is waiting for you"),
    body=gettext_lazy("A new request for help is waiting in triage."),
)
SECURITY = notify.define(
    "test_security",
    subject=gettext_lazy("Krov: a new key for your account"),
    body="If it was not you, press Panic.",
    security=True,
)


def choose(user, *, language=None, channel=None) -> None:
    services.update_settings(
        user,
        pseudonym=user.pseudonym,
        language=language or user.language,
        notification_channel=channel or services.current_notification_channel(user),
        actor=user,
    )
    user.refresh_from_db()


def test_a_notification_is_written_in_the_recipients_language_not_the_actors(
    member, django_capture_on_commit_callbacks
):
    choose(member, language="ru")
    with translation.override("uk"), django_capture_on_commit_callbacks(execute=True):
        notify.notify(member, WAITING, link="/uk/dashboard/")
    [sent] = mail.outbox
    assert sent.subject == "Krov: вас ждёт что-то новое"
    assert sent.body.startswith("Новый запрос о помощи ждёт сортировки.")
    assert sent.body.endswith("/ru/dashboard/")  # the page in their language too


def test_the_same_notice_reaches_two_people_in_their_two_languages(personas):
    english, russian = personas["member"].user, personas["editor"].user
    choose(russian, language="ru")
    with translation.override("de"):
        for user in (english, russian):
            notify.deliver(notify.notify(user, WAITING).pk)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        english.email: "Krov: something new is waiting for you",
        russian.email: "Krov: вас ждёт что-то новое",
    }


def test_channel_none_sends_nothing_and_marks_the_notification_skipped(member):
    choose(member, channel=notify.NONE)
    note = notify.notify(member, WAITING)
    assert notify.deliver(note.pk) is False
    assert not mail.outbox
    note.refresh_from_db()
    assert note.status == Notification.Status.SKIPPED and note.channel == notify.NONE
    assert notify.sweep(older_than=timedelta(0)) == 0  # nothing left to retry


def test_a_safety_notice_reaches_a_person_who_chose_none(member):
    choose(member, channel=notify.NONE)
    assert notify.deliver(notify.notify(member, SECURITY).pk) is True
    [sent] = mail.outbox
    assert sent.subject == "Krov: a new key for your account"


@pytest.fixture
def pigeon(monkeypatch):
    """A second channel (as Telegram registers itself) that reaches only who it is told."""
    reachable: set[int] = set()
    carried: list[tuple[int, str]] = []
    monkeypatch.setattr(notify, "_channels", list(notify._channels))
    notify.register_channel(
        "pigeon",
        lambda user: user.pk in reachable,
        lambda n: carried.append((n.recipient_id, n.subject)),
        label="Pigeon",
    )
    return reachable, carried


def test_who_never_chose_gets_the_first_channel_that_reaches_them(member, pigeon):
    reachable, carried = pigeon
    assert notify.available_channels(member) == [("email", "Email")]
    notify.deliver(notify.notify(member, WAITING).pk)
    assert len(mail.outbox) == 1 and not carried
    reachable.add(member.pk)
    assert [name for name, _label in notify.available_channels(member)] == ["pigeon", "email"]
    note = notify.notify(member, WAITING)
    notify.deliver(note.pk)
    assert carried == [(member.pk, "Krov: something new is waiting for you")]
    assert Notification.objects.get(pk=note.pk).channel == "pigeon"


def test_a_chosen_channel_is_kept_and_email_stands_in_when_it_cannot_reach(member, pigeon):
    reachable, carried = pigeon
    reachable.add(member.pk)
    choose(member, channel="email")
    notify.deliver(notify.notify(member, WAITING).pk)
    assert len(mail.outbox) == 1 and not carried  # email, although the pigeon could fly
    choose(member, channel="pigeon")
    notify.deliver(notify.notify(member, WAITING).pk)
    assert len(carried) == 1
    reachable.clear()  # the chat was unlinked: the choice stays, email carries meanwhile
    note = notify.notify(member, WAITING)
    notify.deliver(note.pk)
    assert len(mail.outbox) == 2 and Notification.objects.get(pk=note.pk).channel == "email"


def test_rows_from_before_keep_their_text(member):
    choose(member, language="ru")
    old = Notification.objects.create(
        recipient=member, kind="aid_offer", subject="Old subject", body="Old body"
    )
    notify.deliver(old.pk)
    [sent] = mail.outbox
    assert (sent.subject, sent.body) == ("Old subject", "Old body")


def test_a_row_of_an_unknown_kind_fails_at_once(member):
    note = Notification.objects.create(recipient=member, kind="gone_kind")
    assert notify.deliver(note.pk) is False
    assert Notification.objects.get(pk=note.pk).status == Notification.Status.FAILED
    assert not mail.outbox


def test_skipped_notifications_go_after_a_week(member):
    skipped = Notification.objects.create(
        recipient=member, kind="t", subject="s", body="b", status=Notification.Status.SKIPPED
    )
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert notify.purge_delivered() == 1
    assert not Notification.objects.filter(pk=skipped.pk).exists()


def test_every_notice_of_the_site_renders_in_every_language():
    """Placeholders that a translation dropped or misspelt fail here, not at delivery."""
    from krov.core.services import interface_languages

    samples = {
        "reason": "r",
        "who": "w",
        "title": "t",
        "date": "2026-12-04",
        "count": 2,
        "pseudonym": "p",
        "roles": ["volunteer"],
        "actor": "",
        "confirmer": "c",
        "name": "n",
        "minutes": 20,
    }
    kinds = {n.kind for n in notify.notices()}
    assert {"aid_new_request", "aid_offer", "housing_expiring", "case_role_granted"} <= kinds
    for notice in notify.notices():
        for language in interface_languages():
            with translation.override(language):
                subject, body = notice.render({p: samples[p] for p in notice.params})
            assert subject and body and "%(" not in subject + body, (notice.kind, language)
