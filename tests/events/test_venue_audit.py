"""Changes to venues and their translations are in the audit log, as other staff actions
are: each language added, changed or removed (through the venues page, the admin's inline
or a service) is one event naming who, which venue and which language, and for a change
which texts, never what they say; so is a venue removed. A refused save, or one that
changes nothing, records nothing. The audit page names each event for people."""

from __future__ import annotations

import json

import pytest

from krov.accounts import roles
from krov.core import audit
from krov.core.models import AuditEvent
from krov.events import services
from krov.events.models import Venue, VenueTranslation
from krov.events.services import AuditKind
from tests.events.test_venue_translations import _admin_form
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KINDS = [value for name, value in vars(AuditKind).items() if name.isupper()]
VENUES = "/en/events/venues/"


def events(kind: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(kind__in=KINDS).order_by("id")
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def admin(personas):
    return personas[roles.ADMIN].user


@pytest.fixture
def superuser(admin):
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    return admin


@pytest.fixture
def hall(admin):
    """A venue written in English with a Russian translation, and no audit event yet."""
    venue = Venue.objects.create(name="Community hall", address="Main street 1", language="en")
    services.set_venue_translation(
        venue, actor=admin, language="ru", name="Общественный зал", address="Главная улица 1"
    )
    return venue


def _rows(venue: Venue, **changes) -> list[dict]:
    """The admin inline's rows as they are, with `changes` ({"ru": {...}}) typed over them."""
    return [
        {
            "id": str(row.pk),
            "language": row.language,
            "name": row.name,
            "address": row.address,
            "accessibility": row.accessibility,
            **changes.get(row.language, {}),
        }
        for row in venue.translations.order_by("language")
    ]


def test_every_kind_fits_the_audit_log_s_column():
    assert all(len(kind) <= AuditEvent._meta.get_field("kind").max_length for kind in KINDS)
    assert len(set(KINDS)) == len(KINDS)


def test_adding_a_translation_records_who_which_venue_and_language(admin):
    venue = Venue.objects.create(name="Community hall", address="Main street 1", language="en")
    services.set_venue_translation(venue, actor=admin, language="de", name="Gemeindesaal")
    (added,) = events()
    assert added.kind == AuditKind.VENUE_TRANSLATION_ADDED
    assert (added.actor_id_ref, added.actor_pseudonym) == (admin.pk, admin.pseudonym)
    assert added.target == f"venue:{venue.pk}"
    assert added.detail == {"venue": "Community hall", "language": "de"}


def test_a_change_records_which_texts_changed_never_what_they_say(hall, admin):
    before = len(events())
    services.set_venue_translation(
        hall, actor=admin, language="ru", name="Общественный зал", address="Садовая улица 5"
    )
    (changed,) = events()[before:]
    assert changed.kind == AuditKind.VENUE_TRANSLATION_CHANGED
    assert changed.actor_id_ref == admin.pk
    assert changed.detail == {"venue": "Community hall", "language": "ru", "fields": ["address"]}
    stored = json.dumps(changed.detail, ensure_ascii=False)
    assert "Садовая" not in stored and "Главная" not in stored


def test_removing_a_translation_records_one_event(hall, admin):
    before = len(events())
    assert services.remove_venue_translation(hall, actor=admin, language="ru")
    (removed,) = events()[before:]
    assert removed.kind == AuditKind.VENUE_TRANSLATION_REMOVED
    assert removed.actor_id_ref == admin.pk
    assert removed.detail == {"venue": "Community hall", "language": "ru"}


def test_each_language_saved_at_once_is_one_event(hall, admin):
    before = len(events())
    services.translate_venue(
        hall,
        actor=admin,
        texts={
            "ru": {},
            "de": {"name": "Gemeindesaal"},
            "uk": {"name": "Громадська зала", "address": "Головна вулиця 1"},
        },
    )
    found = {(e.kind, e.detail["language"]) for e in events()[before:]}
    assert found == {
        (AuditKind.VENUE_TRANSLATION_REMOVED, "ru"),
        (AuditKind.VENUE_TRANSLATION_ADDED, "de"),
        (AuditKind.VENUE_TRANSLATION_ADDED, "uk"),
    }
    assert len(events()[before:]) == 3


def test_saving_the_same_texts_records_nothing(hall, admin):
    before = len(events())
    # As stored once trimmed; an empty language that has no translation is no change either.
    texts = {"name": " Общественный зал ", "address": "Главная улица 1  "}
    assert services.translate_venue(hall, actor=admin, texts={"ru": texts, "de": {}}) == []
    assert len(events()) == before
    # What does change is recorded, once.
    texts["accessibility"] = "Без ступенек."
    assert services.translate_venue(hall, actor=admin, texts={"ru": texts, "de": {}}) == ["ru"]
    assert [e.detail["fields"] for e in events()[before:]] == [["accessibility"]]


def test_a_refused_save_records_nothing_not_even_for_the_languages_that_were_fine(
    hall, admin, personas
):
    before = len(events())
    with pytest.raises(services.VenueTextError):
        services.translate_venue(
            hall, actor=admin, texts={"de": {"name": "Gemeindesaal"}, "uk": {"name": "З" * 121}}
        )
    organiser = personas[roles.ORGANISER].user
    with pytest.raises(services.EventError):
        services.set_venue_translation(hall, actor=organiser, language="de", name="Saal")
    assert len(events()) == before
    assert set(hall.translations.values_list("language", flat=True)) == {"ru"}
    services.translate_venue(hall, actor=admin, texts={"de": {"name": "Gemeindesaal"}})
    assert [e.kind for e in events()[before:]] == [AuditKind.VENUE_TRANSLATION_ADDED]


def test_the_venues_page_records_its_saves_under_the_person_who_saved(hall, admin):
    from tests.events.test_venue_page import _texts

    before = len(events())
    response = signed_in(admin).post(VENUES, _texts(hall, ru={"accessibility": "Без ступенек."}))
    assert response.status_code == 302
    (changed,) = events()[before:]
    assert changed.kind == AuditKind.VENUE_TRANSLATION_CHANGED
    assert changed.actor_pseudonym == admin.pseudonym
    assert changed.detail["fields"] == ["accessibility"]
    # The same form sent again changes nothing and records nothing.
    signed_in(admin).post(VENUES, _texts(hall))
    assert len(events()) == before + 1


def test_the_admins_inline_records_a_row_moved_to_another_language_as_removed_and_added(
    hall, admin
):
    before = len(events())
    rows = _rows(hall, ru={"language": "uk", "name": "Громадська зала", "address": ""})
    response = signed_in(admin).post(
        f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
    )
    assert response.status_code == 302
    found = [(e.kind, e.detail["language"], e.actor_id_ref) for e in events()[before:]]
    assert sorted(found) == [
        (AuditKind.VENUE_TRANSLATION_ADDED, "uk", admin.pk),
        (AuditKind.VENUE_TRANSLATION_REMOVED, "ru", admin.pk),
    ]


def test_the_admins_form_sent_unchanged_records_nothing(hall, admin):
    client = signed_in(admin)
    before = len(events())
    response = client.post(f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, _rows(hall)))
    assert response.status_code == 302
    assert len(events()) == before
    rows = _rows(hall, ru={"address": "Садовая улица 5"})
    client.post(f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows))
    assert [e.kind for e in events()[before:]] == [AuditKind.VENUE_TRANSLATION_CHANGED]


# --- removing a venue --------------------------------------------------------------------------


def test_removing_a_venue_in_the_admin_records_one_event_and_its_translations_go_with_it(
    hall, superuser
):
    before = len(events())
    response = signed_in(superuser).post(f"/admin/events/venue/{hall.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Venue.objects.filter(pk=hall.pk).exists()
    assert not VenueTranslation.objects.filter(venue_id=hall.pk).exists()
    (removed,) = events()[before:]
    assert removed.kind == AuditKind.VENUE_REMOVED
    assert removed.actor_id_ref == superuser.pk
    assert (removed.target, removed.detail) == (f"venue:{hall.pk}", {"venue": "Community hall"})


def test_the_lists_delete_action_records_each_venue_removed(hall, superuser):
    other = Venue.objects.create(name="Garden", address="Park 2", language="en")
    before = len(events())
    response = signed_in(superuser).post(
        "/admin/events/venue/",
        {"action": "delete_selected", "_selected_action": [hall.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Venue.objects.filter(pk__in=[hall.pk, other.pk]).exists()
    removed = events()[before:]
    assert sorted(e.target for e in removed) == sorted([f"venue:{hall.pk}", f"venue:{other.pk}"])
    assert {e.kind for e in removed} == {AuditKind.VENUE_REMOVED}


def test_a_venue_with_events_is_not_removed_and_nothing_is_recorded(hall, event_at, superuser):
    event_at(hall)
    before = len(events())
    with pytest.raises(services.EventError):
        services.delete_venue(hall, actor=superuser)
    assert Venue.objects.filter(pk=hall.pk).exists()
    assert len(events()) == before


def test_only_those_allowed_to_delete_venues_remove_them(hall, admin):
    # The admin role keeps venues but may not delete them (events.delete_venue).
    with pytest.raises(services.EventError):
        services.delete_venue(hall, actor=admin)
    assert Venue.objects.filter(pk=hall.pk).exists()
    assert not events(AuditKind.VENUE_REMOVED)


# --- the audit page ------------------------------------------------------------------------------


def test_venue_events_keep_the_audit_chain_whole(hall, admin):
    services.set_venue_translation(hall, actor=admin, language="de", name="Gemeindesaal")
    services.remove_venue_translation(hall, actor=admin, language="ru")
    assert [e.detail["language"] for e in events()] == ["ru", "de", "ru"]
    assert audit.verify().ok


def test_the_audit_page_shows_venue_events_without_their_codes(hall, admin):
    services.set_venue_translation(hall, actor=admin, language="ru", name="Зал")
    services.remove_venue_translation(hall, actor=admin, language="ru")
    page = soup(signed_in(admin).get("/en/audit/"))
    rows = [row.get_text(" ") for row in page.select("tbody tr")]
    shown = " ".join(rows)
    for code in KINDS:
        assert code not in shown, code
    assert "Community hall" in shown
    # The language by its name, as the venues page names it, not its code.
    changed = next(row for row in rows if "changed" in row.lower())
    assert "Russian" in changed and "name" in changed


def test_venue_kinds_have_translated_labels_and_are_offered_in_the_audit_filter(admin):
    labels = dict(AuditEvent.Kind.choices)
    for kind in KINDS:
        assert audit.kind_label(kind) == str(labels[kind])
        assert str(labels[kind]).startswith("Events: ")
    page = soup(signed_in(admin).get("/en/audit/"))
    offered = {option["value"] for option in page.select("select[name=kind] option")}
    assert set(KINDS) <= offered
