"""Changes to tags' names in other languages are in the audit log, as the events app records
venue translations: each language added, changed or removed (through the tags page or the
service) is one event naming who, which tag and which language, and for a change which
texts, never what they say. A refused save, or one that changes nothing, records nothing.
The audit page names each event for people. (Tags are never removed through Krov: no kind
for that.)"""

from __future__ import annotations

import json

import pytest

from krov.accounts import roles
from krov.bulletins import services
from krov.bulletins.models import Tag
from krov.bulletins.services import AuditKind
from krov.core import audit
from krov.core.models import AuditEvent
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KINDS = [
    AuditKind.TAG_TRANSLATION_ADDED,
    AuditKind.TAG_TRANSLATION_CHANGED,
    AuditKind.TAG_TRANSLATION_REMOVED,
]
TAGS = "/en/bulletins/editor/tags/"


def events(kind: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(kind__startswith="tag_").order_by("id")
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def war(publish):
    """A bulletin tagged "rat" (Serbian, Latin), the tag untranslated and no event yet."""
    publish()
    return Tag.objects.get(slug="rat")


@pytest.fixture
def translated_war(war, editor):
    """ "rat" named in Russian (one event)."""
    services.translate_tags(war, actor=editor, names={"ru": "война"})
    return war


def since(before: int) -> list[AuditEvent]:
    """The tag events recorded after the first `before`."""
    return events()[before:]


def _form(tag: Tag, **names: str) -> dict[str, str]:
    """The tags page's form of `tag` as it is, with `names` typed over it."""
    current = {row.language: row.name for row in tag.translations.all()}
    fields = {f"tag-{tag.pk}-{code}": current.get(code, "") for code in ("ru", "uk", "en", "de")}
    return {"tag": tag.slug, **fields, **{f"tag-{tag.pk}-{k}": v for k, v in names.items()}}


def test_every_kind_is_the_bulletins_and_fits_the_audit_log_s_column():
    kinds = [value for name, value in vars(AuditKind).items() if name.startswith("TAG_")]
    assert sorted(kinds) == sorted(KINDS)
    assert all(len(kind) <= AuditEvent._meta.get_field("kind").max_length for kind in KINDS)
    assert len(set(vars(AuditKind).values())) == len(vars(AuditKind))


def test_adding_a_translation_records_who_which_tag_and_language(war, editor):
    services.translate_tags(war, actor=editor, names={"de": "Krieg"})
    (added,) = events()
    assert added.kind == AuditKind.TAG_TRANSLATION_ADDED
    assert (added.actor_id_ref, added.actor_pseudonym) == (editor.pk, editor.pseudonym)
    assert added.target == f"tag:{war.pk}"
    assert added.detail == {"tag": "rat", "language": "de"}


def test_a_change_records_which_text_changed_never_what_it_says(translated_war, editor):
    before = len(events())
    services.translate_tags(translated_war, actor=editor, names={"ru": "Войны"})
    (changed,) = since(before)
    assert changed.kind == AuditKind.TAG_TRANSLATION_CHANGED
    assert changed.actor_id_ref == editor.pk
    assert changed.detail == {"tag": "rat", "language": "ru", "fields": ["name"]}
    stored = json.dumps(changed.detail, ensure_ascii=False)
    assert "Войн" not in stored and "война" not in stored


def test_removing_a_translation_records_one_event(translated_war, editor):
    before = len(events())
    assert services.translate_tags(translated_war, actor=editor, names={"ru": ""}) == 1
    (removed,) = since(before)
    assert removed.kind == AuditKind.TAG_TRANSLATION_REMOVED
    assert (removed.actor_id_ref, removed.target) == (editor.pk, f"tag:{translated_war.pk}")
    assert removed.detail == {"tag": "rat", "language": "ru"}


def test_each_language_saved_at_once_is_one_event(translated_war, editor):
    before = len(events())
    names = {"ru": "", "de": "Krieg", "uk": "Війна", "en": ""}
    assert services.translate_tags(translated_war, actor=editor, names=names) == 3
    assert sorted((e.kind, e.detail["language"]) for e in since(before)) == [
        (AuditKind.TAG_TRANSLATION_ADDED, "de"),
        (AuditKind.TAG_TRANSLATION_ADDED, "uk"),
        (AuditKind.TAG_TRANSLATION_REMOVED, "ru"),
    ]


def test_saving_the_same_names_records_nothing(translated_war, editor):
    before = len(events())
    # As stored once white space is folded; an empty name where there is none is no change.
    names = {"ru": "  война ", "de": ""}
    assert services.translate_tags(translated_war, actor=editor, names=names) == 0
    assert since(before) == []
    # What does change is recorded, once.
    names["de"] = "Krieg"
    assert services.translate_tags(translated_war, actor=editor, names=names) == 1
    assert [(e.kind, e.detail["language"]) for e in since(before)] == [
        (AuditKind.TAG_TRANSLATION_ADDED, "de")
    ]


def test_a_refused_save_records_nothing_not_even_for_the_languages_that_were_fine(
    translated_war, editor, personas
):
    before = len(events())
    for names in (
        {"de": "Krieg", "uk": "В" * 61},  # too long
        {"de": "Krieg", "ru": "", "sr": "рат"},  # the tag's own language
        {"en": "war", "tlh": "veS"},  # no language of the site
    ):
        with pytest.raises(services.BulletinError):
            services.translate_tags(translated_war, actor=editor, names=names)
    with pytest.raises(services.BulletinError):
        services.translate_tags(
            translated_war, actor=personas[roles.ORGANISER].user, names={"de": "Krieg"}
        )
    assert since(before) == []
    assert dict(translated_war.translations.values_list("language", "name")) == {"ru": "война"}
    services.translate_tags(translated_war, actor=editor, names={"de": "Krieg"})
    assert [e.kind for e in since(before)] == [AuditKind.TAG_TRANSLATION_ADDED]


def test_the_tags_page_records_its_saves_under_the_person_who_saved(translated_war, editor):
    before = len(events())
    client = signed_in(editor)
    response = client.post(TAGS, _form(translated_war, ru="Войны", de="Krieg"))
    assert response.status_code == 302
    found = sorted((e.kind, e.detail["language"], e.actor_pseudonym) for e in since(before))
    assert found == [
        (AuditKind.TAG_TRANSLATION_ADDED, "de", editor.pseudonym),
        (AuditKind.TAG_TRANSLATION_CHANGED, "ru", editor.pseudonym),
    ]
    # The same form sent again changes nothing and records nothing; a refused one neither.
    assert client.post(TAGS, _form(translated_war)).status_code == 302
    assert client.post(TAGS, _form(translated_war, en="W" * 61)).status_code == 400
    assert len(since(before)) == 2


def test_tag_events_keep_the_audit_chain_whole(war, editor):
    services.translate_tags(war, actor=editor, names={"ru": "война", "de": "Krieg"})
    services.translate_tags(war, actor=editor, names={"ru": "", "de": "Der Krieg"})
    assert sorted(e.detail["language"] for e in events()) == ["de", "de", "ru", "ru"]
    assert audit.verify().ok


def test_the_audit_page_shows_tag_events_without_their_codes(translated_war, editor, personas):
    services.translate_tags(translated_war, actor=editor, names={"ru": "Войны"})
    services.translate_tags(translated_war, actor=editor, names={"ru": ""})
    page = soup(signed_in(personas[roles.ADMIN].user).get("/en/audit/"))
    rows = [row.get_text(" ") for row in page.select("tbody tr")]
    shown = " ".join(rows)
    for code in KINDS:
        assert code not in shown, code
    # The language by its name, as the tags page names it, not its code.
    changed = next(row for row in rows if "changed" in row.lower())
    assert "rat" in changed and "Russian" in changed and "name" in changed
    assert "Войны" not in shown


def test_tag_kinds_have_translated_labels_and_are_offered_in_the_audit_filter(personas):
    labels = dict(AuditEvent.Kind.choices)
    for kind in KINDS:
        assert audit.kind_label(kind) == str(labels[kind])
        assert str(labels[kind]).startswith("Bulletins: ")
    page = soup(signed_in(personas[roles.ADMIN].user).get("/en/audit/"))
    offered = {option["value"] for option in page.select("select[name=kind] option")}
    assert set(KINDS) <= offered
