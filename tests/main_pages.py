"""The main pages of every part of Krov, filled with the demo data (`krov demo`, built through
the services), for the checks that walk them all: axe-core in Chromium
(tests/browser/test_accessibility.py) and the HTML guard (tests/core/test_html_main_pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

LANGUAGES = ("en", "ru")


@dataclass(frozen=True)
class Page:
    name: str
    path: str


def load_content() -> None:
    """Everything a visitor can see: events, bulletins, listings, rents, organisations,
    guides, help requests (the demo's own accounts; the tests sign in as personas)."""
    call_command("demo", "--force", stdout=_Discard())


class _Discard:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def public_pages(language: str) -> list[Page]:
    from krov.bulletins.models import Post
    from krov.directory.models import Guide, Organisation
    from krov.events.models import Event

    with translation.override(language):
        event = Event.objects.public().filter(status=Event.Status.PUBLISHED).order_by("id")[0]
        post = Post.objects.published().order_by("id")[0]
        organisation = Organisation.objects.order_by("id")[0]
        guide = Guide.objects.order_by("id")[0]
        return [
            Page("home", reverse("core:home")),
            Page("help-form", reverse("aid:request")),
            Page("events", reverse("events:list")),
            Page("event", event.get_absolute_url()),
            Page("bulletins", reverse("bulletins:list")),
            Page("bulletin", post.get_absolute_url()),
            Page("housing", reverse("housing:list")),
            Page("rents", reverse("housing:rents")),
            Page("directory", reverse("directory:list")),
            Page("organisation", organisation.get_absolute_url()),
            Page("guides", reverse("directory:guides")),
            Page("guide", guide.get_absolute_url()),
        ]


def organisers_event(organiser):
    """An open-mic night the persona organiser runs, with RSVPs and a queue, so that the
    manage page shows its tables."""
    from krov.events import services
    from krov.events.models import Event

    starts = timezone.now() + timedelta(days=2)
    event = services.create_event(
        actor=organiser,
        title="Open mic",
        language="en",
        kind=Event.Kind.OPEN_MIC,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=20,
        address="Kraljice Natalije 11",
    )
    services.publish(event, actor=organiser)
    for name in ("Ana", "Boris"):
        services.rsvp(event, name=name)
    return event


def signed_in_pages(language: str, event) -> list[tuple[str, Page]]:
    """(persona role, page): a coordinator's home and triage, the volunteer's console, an
    organiser's event, the moderation and review queues, the newsroom and press watch, the
    administrator's venues, and a person's settings, safety and duress pages."""
    with translation.override(language):
        return [
            ("coordinator", Page("dashboard", reverse("accounts:dashboard"))),
            ("coordinator", Page("triage", reverse("aid:triage"))),
            ("volunteer", Page("console", reverse("aid:console"))),
            ("organiser", Page("event-manage", reverse("events:manage", args=[event.slug]))),
            ("organiser", Page("moderation", reverse("housing:moderation"))),
            ("organiser", Page("directory-review", reverse("directory:review"))),
            ("editor", Page("newsroom", reverse("bulletins:editor"))),
            ("editor", Page("tags", reverse("bulletins:tags"))),
            ("editor", Page("press", reverse("press:stories"))),
            ("editor", Page("press-sources", reverse("press:sources"))),
            ("admin", Page("venues", reverse("events:venues"))),
            ("member", Page("settings", reverse("accounts:settings"))),
            ("member", Page("safety", reverse("accounts:safety"))),
            ("member", Page("duress", reverse("accounts:duress"))),
        ]
