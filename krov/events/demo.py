"""Demo events: a neighbourhood centre, a weekly open-mic night with a filled queue, a
lecture, a protest in count-only mode; written in several languages."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from krov.accounts.models import User
from krov.events import services
from krov.events.models import Event, Venue


def _next(weekday: int, at: time) -> datetime:
    today = timezone.localdate()
    days = (weekday - today.weekday()) % 7 or 7
    return timezone.make_aware(datetime.combine(today + timedelta(days=days), at))


def load() -> list[str]:
    organiser = User.objects.get(email="organiser@demo.krov.local")
    if Event.objects.filter(organisers=organiser).exists():
        return ["Demo events: already loaded (see /en/events/)."]
    centre, _created = Venue.objects.get_or_create(
        name="Kvaka 22",
        defaults={
            "address": "Kraljice Natalije 11, Beograd",
            "osm_url": "https://www.openstreetmap.org/search?query=Kraljice%20Natalije%2011%20Beograd",
            "accessibility": "Prizemlje, jedan stepenik na ulazu; nema pristupačnog toaleta.",
            "language": "sr-latn",
            "capacity": 30,
        },
    )
    starts = _next(4, time(19, 30))
    open_mic = services.create_event(
        actor=organiser,
        title="Отворени микрофон",
        language="sr",
        kind=Event.Kind.OPEN_MIC,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        venue=centre,
        capacity=30,
        summary="Свако ко жели добија микрофон: песме, поезија, приче.",
        description="Доведите пријатеље. **Улаз слободан.**",
    )
    services.set_text(
        open_mic,
        actor=organiser,
        language="ru",
        title="Открытый микрофон",
        summary="Микрофон получает каждый, кто хочет: песни, стихи, истории.",
    )
    services.set_text(
        open_mic,
        actor=organiser,
        language="uk",
        title="Відкритий мікрофон",
        summary="Мікрофон отримує кожен, хто хоче: пісні, вірші, історії.",
    )
    services.publish(open_mic, actor=organiser)
    services.repeat(open_mic, actor=organiser, every="weekly", count=3)
    for name, act, language in [
        ("Lira", "songs with guitar", "ru"),
        ("Tanja", "poems", "uk"),
        ("Marko", "stand-up", "sr"),
        ("Nadia", "a lullaby from Kharkiv", "uk"),
    ]:
        services.sign_up(open_mic, stage_name=name, act=act, language=language, actor=organiser)
    for name in ["Ana", "Boris", "Vera"]:
        services.rsvp(open_mic, name=name)

    lecture_start = _next(1, time(18, 0))
    lecture = services.create_event(
        actor=organiser,
        title="Как открыть счёт в сербском банке",
        language="ru",
        kind=Event.Kind.LECTURE,
        starts_at=lecture_start,
        ends_at=lecture_start + timedelta(hours=2),
        venue=centre,
        capacity=2,
        rsvp_mode=Event.RSVP.REQUIRED,
        summary="Документы, банки, частые ошибки. С вопросами и ответами.",
    )
    services.set_text(
        lecture, actor=organiser, language="en", title="Opening a bank account in Serbia"
    )
    services.publish(lecture, actor=organiser)
    services.rsvp(lecture, name="Oleg")
    services.rsvp(lecture, name="Masha")
    services.rsvp(lecture, name="Dima")  # waiting list

    protest_start = _next(6, time(15, 0))
    protest = services.create_event(
        actor=organiser,
        title="Protest against the war",
        language="en",
        kind=Event.Kind.PROTEST,
        starts_at=protest_start,
        ends_at=protest_start + timedelta(hours=2),
        address="Trg Republike, Beograd",
        rsvp_mode=Event.RSVP.COUNT,
        summary="Bring a sign. No names are kept; say you are coming so we know how many.",
    )
    services.set_text(protest, actor=organiser, language="sr-latn", title="Protest protiv rata")
    services.publish(protest, actor=organiser)
    return [
        "Demo events: an open-mic night (weekly, queue filled), a lecture (full, one waiting),",
        f"  a count-only protest. Organise them at /en/events/manage/ "
        f"(organiser@demo.krov.local); live queue: /sr/events/{open_mic.slug}/live/",
    ]
