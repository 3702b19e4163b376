"""The catalogue coordinators keep: skills and canned replies."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.accounts.models import User
from krov.aid.models import (
    AID_LANGUAGES,
    Skill,
)
from krov.aid.services.access import _require_coordinator
from krov.aid.services.base import AidError, check_text


@transaction.atomic
def save_skill(
    *, actor: User, slug: str, name: str, active: bool = True, skill: Skill | None = None
) -> Skill:
    """Add a skill, or rename / switch off an existing one (skills are never deleted:
    the anonymous records still count by them)."""
    from django.utils.translation import get_language

    from krov.core.services import slug_text

    _require_coordinator(actor)
    name = name.strip()
    if len(name) > 80:
        raise AidError(_("A skill name has at most 80 characters."))
    if skill is None:
        # Any script: a Cyrillic name is romanised by its language's rules (the page's).
        slug = slug_text(slug or name, language=get_language(), max_length=40)
        if not slug:
            raise AidError(_("Please give the new skill a name."))
        if Skill.objects.filter(slug=slug).exists():
            raise AidError(_("A skill with this short name exists already."))
        return Skill.objects.create(slug=slug, name=name, active=active, position=500)
    skill.name, skill.active = name, active
    skill.save(update_fields=["name", "active"])
    return skill


@transaction.atomic
def save_canned_reply(
    *, actor: User, language: str, title: str, body: str, reply=None, delete: bool = False
):
    from krov.aid.models import CannedReply

    _require_coordinator(actor)
    if reply is not None and delete:
        reply.delete()
        return None
    title = title.strip()
    body = check_text(body, what=gettext_lazy("the reply"))
    if not title or len(title) > 80:
        raise AidError(_("A canned reply needs a title of at most 80 characters."))
    if language not in AID_LANGUAGES:
        raise AidError(_("Unknown language."))
    if reply is None:
        return CannedReply.objects.create(language=language, title=title, body=body)
    reply.language, reply.title, reply.body = language, title, body
    reply.save(update_fields=["language", "title", "body"])
    return reply


OTHER_SKILL = "other"


def requested_skill(pk: int | None) -> Skill | None:
    """The kind of help a requester chose: an active one, or "something else" when they
    chose none; None for one that does not exist (any more)."""
    if pk is None:
        return Skill.objects.filter(slug=OTHER_SKILL).first()
    return Skill.objects.filter(pk=pk, active=True).first()
