"""The housing board's rules: posting, renewing and closing listings, flags and moderation,
conversations through Krov, and keeping each listing's rent observation in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from krov.core import audit, images, pagecache, ratelimit
from krov.core.models import AuditEvent
from krov.core.notify import notify
from krov.housing import index, notices
from krov.housing.importer import plausible
from krov.housing.models import (
    Ban,
    Conversation,
    ConversationMessage,
    District,
    Flag,
    Listing,
    ListingPhoto,
    RentObservation,
)
from krov.housing.parsing import month_of

MAX_PHOTOS = 8
MAX_MESSAGE = 4000
REMIND_DAYS = 3


class HousingError(Exception):
    """A rule of the board refused the action; the message is for people."""


class Banned(HousingError):
    pass


def is_banned(user) -> bool:
    return Ban.objects.filter(user=user).exists()


def _check_not_banned(user) -> None:
    if is_banned(user):
        raise Banned(_("You can no longer post or write on the housing board."))


def _changed(listing: Listing) -> None:
    pagecache.invalidate("housing")


# --- listings ----------------------------------------------------------------------------

LISTING_FIELDS = (
    "kind",
    "title",
    "description",
    "language",
    "district",
    "location_hint",
    "size_m2",
    "rooms",
    "rent",
    "currency",
    "deposit",
    "furnished",
    "pets",
    "available_from",
)


def _apply(listing: Listing, data: dict) -> None:
    for name in LISTING_FIELDS:
        if name in data:
            setattr(listing, name, data[name])
    listing.languages = (
        "," + ",".join(data.get("languages") or []) + "," if data.get("languages") else ""
    )
    listing.rent_eur, listing.rate = index.to_eur(Decimal(listing.rent), listing.currency)


def _add_photos(listing: Listing, uploads: list) -> None:
    have = listing.photos.count()
    if have + len(uploads) > MAX_PHOTOS:
        raise HousingError(_("A listing can have at most %(n)s photos.") % {"n": MAX_PHOTOS})
    processed = []
    for upload in uploads:
        try:
            processed.append(images.normalise(upload, box=(1600, 1200)))
        except images.PictureError as error:
            raise HousingError(f"{upload.name}: {error}") from None
    for position, data in enumerate(processed, start=have):
        name = images.store(data, prefix=f"housing/{listing.pk}")
        ListingPhoto.objects.create(listing=listing, image=name, position=position)


def _observation_status(listing: Listing) -> str:
    if listing.status == Listing.Status.HIDDEN:
        return RentObservation.Status.EXCLUDED
    if not plausible(listing.rent_eur, listing.size_m2):
        return RentObservation.Status.IMPLAUSIBLE
    return RentObservation.Status.OK


def _sync_observation(listing: Listing) -> None:
    """Each listing is one rent observation, dated when it was first published."""
    observation = RentObservation.objects.filter(listing=listing).first()
    months = {observation.month} if observation else set()
    if observation is None:
        observed = timezone.localdate(listing.published_at)
        observation = RentObservation(
            listing=listing,
            observed_on=observed,
            month=month_of(observed),
            source=RentObservation.LISTING_SOURCE,
        )
    observation.district = listing.district
    observation.size_m2 = listing.size_m2
    observation.rent = listing.rent
    observation.currency = listing.currency
    observation.rate = listing.rate
    observation.rent_eur = listing.rent_eur
    observation.per_m2 = (listing.rent_eur / listing.size_m2).quantize(index.CENT)
    observation.status = _observation_status(listing)
    observation.save()
    index.schedule(months | {observation.month})


def listing_days() -> int:
    """How long a listing stays on the board before it must be renewed."""
    return settings.KROV_HOUSING_LISTING_DAYS


@transaction.atomic
def post_listing(*, actor, data: dict, photos: list | None = None) -> Listing:
    _check_not_banned(actor)
    now = timezone.now()
    listing = Listing(
        poster=actor,
        published_at=now,
        created_at=now,
        expires_at=now + timedelta(days=settings.KROV_HOUSING_LISTING_DAYS),
    )
    _apply(listing, data)
    listing.save()
    _add_photos(listing, photos or [])
    _sync_observation(listing)
    audit.record(
        AuditEvent.Kind.HOUSING_LISTING_POSTED, actor=actor, target=f"listing:{listing.pk}"
    )
    transaction.on_commit(lambda: _changed(listing))
    return listing


def can_edit(user, listing: Listing) -> bool:
    return user.is_authenticated and listing.poster_id == user.pk


@transaction.atomic
def update_listing(
    listing: Listing,
    *,
    actor,
    data: dict,
    photos: list | None = None,
    remove: list | None = None,
) -> Listing:
    if not can_edit(actor, listing):
        raise HousingError(_("Only the poster can change this listing."))
    _check_not_banned(actor)
    _apply(listing, data)
    listing.save()
    if remove:
        for photo in listing.photos.filter(pk__in=remove):
            images.delete_after_commit(photo.image)
            photo.delete()
    _add_photos(listing, photos or [])
    _sync_observation(listing)
    transaction.on_commit(lambda: _changed(listing))
    return listing


@transaction.atomic
def renew(listing: Listing, *, actor) -> Listing:
    if not can_edit(actor, listing):
        raise HousingError(_("Only the poster can renew this listing."))
    if listing.status != Listing.Status.PUBLISHED:
        raise HousingError(_("Only a published listing can be renewed."))
    _check_not_banned(actor)
    listing.expires_at = timezone.now() + timedelta(days=settings.KROV_HOUSING_LISTING_DAYS)
    listing.expiry_reminded_at = None
    listing.save(update_fields=["expires_at", "expiry_reminded_at"])
    transaction.on_commit(lambda: _changed(listing))
    return listing


@transaction.atomic
def close(listing: Listing, *, actor, status: str) -> Listing:
    """The poster marks the listing rented or withdraws it (the observation stays)."""
    if not can_edit(actor, listing):
        raise HousingError(_("Only the poster can close this listing."))
    if status not in (Listing.Status.RENTED, Listing.Status.WITHDRAWN):
        raise HousingError(_("Unknown status."))
    if listing.status == Listing.Status.HIDDEN:
        raise HousingError(_("This listing was hidden by the moderators."))
    listing.status = status
    listing.closed_at = timezone.now()
    listing.save(update_fields=["status", "closed_at"])
    transaction.on_commit(lambda: _changed(listing))
    return listing


def visible_to(user, listing: Listing) -> bool:
    if listing.is_visible:
        return True
    if not user.is_authenticated:
        return False
    return listing.poster_id == user.pk or user.has_perm("accounts.moderate_housing")


@dataclass
class Filters:
    district: District | None = None
    kind: str = ""
    rooms: Decimal | None = None
    rent_min: Decimal | None = None
    rent_max: Decimal | None = None
    size_min: Decimal | None = None
    available_by: date | None = None
    furnished: bool = False
    pets: bool = False
    language: str = ""
    sort: str = "new"


SORTS = {
    "new": ("-published_at", "-id"),
    "rent": ("rent_eur", "id"),
    "-rent": ("-rent_eur", "-id"),
    "size": ("-size_m2", "-id"),
    "available": ("available_from", "id"),
}


def listings(filters: Filters | None = None) -> QuerySet[Listing]:
    f = filters or Filters()
    found = Listing.objects.visible().select_related("district")
    if f.district:
        found = found.filter(district=f.district)
    if f.kind:
        found = found.filter(kind=f.kind)
    if f.rooms is not None:
        found = found.filter(rooms__gte=f.rooms)
    if f.rent_min is not None:
        found = found.filter(rent_eur__gte=f.rent_min)
    if f.rent_max is not None:
        found = found.filter(rent_eur__lte=f.rent_max)
    if f.size_min is not None:
        found = found.filter(size_m2__gte=f.size_min)
    if f.available_by:
        found = found.filter(available_from__lte=f.available_by)
    if f.furnished:
        found = found.filter(furnished=True)
    if f.pets:
        found = found.filter(pets=True)
    if f.language:
        found = found.filter(languages__contains=f",{f.language},")
    return found.order_by(*SORTS.get(f.sort, SORTS["new"]))


# --- flags and moderation ----------------------------------------------------------------


@transaction.atomic
def flag(listing: Listing, *, actor, reason: str, note: str = "") -> Flag:
    """`actor` reports the listing to the moderators."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.status == Listing.Status.HIDDEN:
        raise HousingError(_("This listing is already hidden; the moderators have seen it."))
    if not listing.is_visible:
        raise HousingError(_("This listing is no longer on the board."))
    if listing.poster_id == actor.pk:
        raise HousingError(_("You cannot flag your own listing."))
    if reason not in Flag.Reason.values:
        raise HousingError(_("Choose a reason."))
    existing = Flag.objects.filter(listing=listing, reporter=actor).first()
    if existing and existing.resolved_at is None:
        raise HousingError(_("You have already flagged this listing."))
    if existing:
        existing.delete()
    created = Flag.objects.create(listing=listing, reporter=actor, reason=reason, note=note)
    audit.record(
        AuditEvent.Kind.HOUSING_FLAGGED,
        actor=actor,
        target=f"listing:{listing.pk}",
        reason=reason,
    )
    if listing.flags.filter(resolved_at__isnull=True).count() == 1:
        _tell_moderators(listing)
    return created


def _tell_moderators(listing: Listing) -> None:
    """The first open report on a listing reaches every moderator (later ones wait on the
    moderation page)."""
    from krov.accounts.models import User

    moderators = User.objects.filter(
        is_active=True, groups__permissions__codename="moderate_housing"
    ).distinct()
    for moderator in moderators:
        notify(moderator, notices.FLAGGED, link=reverse("housing:moderation"))


def flagged_listings() -> QuerySet[Listing]:
    return (
        Listing.objects.filter(flags__resolved_at__isnull=True)
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        .select_related("district", "poster")
        .order_by("-open_flags", "-published_at")
        .distinct()
    )


def moderation_waiting() -> dict:
    """For a moderator's home, in one query: `flagged`, the listings with an open report
    (those `flagged_listings` lists), and `since`, when the oldest open report came."""
    return Flag.objects.filter(resolved_at__isnull=True).aggregate(
        flagged=Count("listing", distinct=True), since=Min("created_at")
    )


def _resolve_flags(listing: Listing, actor) -> None:
    listing.flags.filter(resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor
    )


def _require_moderator(actor) -> None:
    if not (actor.is_authenticated and actor.has_perm("accounts.moderate_housing")):
        raise HousingError(_("Only moderators can do this."))


@transaction.atomic
def hide(listing: Listing, *, actor, reason: str) -> Listing:
    _require_moderator(actor)
    if listing.status == Listing.Status.HIDDEN:
        raise HousingError(_("This listing is already hidden."))
    if not reason.strip():
        raise HousingError(_("Say why the listing is hidden; the poster will read it."))
    listing.status = Listing.Status.HIDDEN
    listing.hidden_reason = reason.strip()[:200]
    listing.closed_at = timezone.now()
    listing.save(update_fields=["status", "hidden_reason", "closed_at"])
    _resolve_flags(listing, actor)
    _sync_observation(listing)
    notify(
        listing.poster,
        notices.HIDDEN,
        params={"reason": listing.hidden_reason},
        link=listing.get_absolute_url(),
    )
    audit.record(
        AuditEvent.Kind.HOUSING_HIDDEN,
        actor=actor,
        subject=listing.poster,
        target=f"listing:{listing.pk}",
    )
    transaction.on_commit(lambda: _changed(listing))
    return listing


@transaction.atomic
def restore(listing: Listing, *, actor) -> Listing:
    _require_moderator(actor)
    if listing.status != Listing.Status.HIDDEN:
        raise HousingError(_("This listing is not hidden."))
    if is_banned(listing.poster):
        raise HousingError(_("The poster is banned; lift the ban first."))
    listing.status = Listing.Status.PUBLISHED
    listing.hidden_reason = ""
    listing.closed_at = None
    listing.save(update_fields=["status", "hidden_reason", "closed_at"])
    _resolve_flags(listing, actor)
    _sync_observation(listing)
    audit.record(
        AuditEvent.Kind.HOUSING_RESTORED,
        actor=actor,
        subject=listing.poster,
        target=f"listing:{listing.pk}",
    )
    transaction.on_commit(lambda: _changed(listing))
    return listing


@transaction.atomic
def dismiss_flags(listing: Listing, *, actor) -> None:
    _require_moderator(actor)
    _resolve_flags(listing, actor)
    audit.record(
        AuditEvent.Kind.HOUSING_FLAGS_DISMISSED, actor=actor, target=f"listing:{listing.pk}"
    )


def showing_listings(user) -> QuerySet[Listing]:
    """The member's listings on the board now: what a ban would hide (and its undo brings
    back)."""
    return Listing.objects.filter(poster=user, status=Listing.Status.PUBLISHED).select_related(
        "district"
    )


@transaction.atomic
def ban(user, *, actor, reason: str) -> int:
    """Ban a member from the board and hide all their published listings."""
    _require_moderator(actor)
    if user.pk == actor.pk:
        raise HousingError(_("You cannot ban yourself."))
    if not reason.strip():
        raise HousingError(_("Say why the member is banned."))
    Ban.objects.update_or_create(user=user, defaults={"banned_by": actor, "reason": reason[:200]})
    hidden = 0
    for listing in Listing.objects.filter(poster=user, status=Listing.Status.PUBLISHED):
        hide(listing, actor=actor, reason=reason)
        hidden += 1
    audit.record(AuditEvent.Kind.HOUSING_BANNED, actor=actor, subject=user, hidden=hidden)
    return hidden


@transaction.atomic
def undo_ban(data: dict, *, actor) -> str:
    """krov.core.undo: lift a ban made a moment ago and put back the listings it hid (those
    still hidden; `data`: {"user": id, "listings": [ids]})."""
    from krov.core.undo import UndoError

    pk = data.get("user")
    user = get_user_model().objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if user is None or not is_banned(user):
        raise UndoError(_("The ban was already lifted."))
    try:
        lift_ban(user, actor=actor)
        hidden = Listing.objects.filter(
            pk__in=[pk for pk in data.get("listings", []) if isinstance(pk, int)],
            poster=user,
            status=Listing.Status.HIDDEN,
        )
        back = 0
        for listing in hidden:
            restore(listing, actor=actor)
            back += 1
    except HousingError as error:
        raise UndoError(str(error)) from None
    return ngettext(
        "The ban is lifted; %(count)s listing is back on the board.",
        "The ban is lifted; %(count)s listings are back on the board.",
        back,
    ) % {"count": back}


@transaction.atomic
def lift_ban(user, *, actor) -> None:
    _require_moderator(actor)
    Ban.objects.filter(user=user).delete()
    audit.record(AuditEvent.Kind.HOUSING_BAN_LIFTED, actor=actor, subject=user)


# --- conversations -----------------------------------------------------------------------


def _rate_limit(user) -> None:
    limit = settings.KROV_HOUSING_MESSAGES_PER_HOUR
    if not ratelimit.hit("housing-messages", str(user.pk), limit=limit, window=3600):
        raise HousingError(_("You have sent many messages in the last hour; please wait a little."))


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise HousingError(_("Write a message first."))
    if len(body) > MAX_MESSAGE:
        raise HousingError(
            _("The message is too long (%(max)s characters at most).") % {"max": MAX_MESSAGE}
        )
    return body


@transaction.atomic
def write(listing: Listing, *, actor, body: str) -> Conversation:
    """A member (`actor`) writes to the poster; the poster is told through their notification
    channel (email, or Telegram when linked). Neither learns the other's address."""
    body = _check_body(body)
    if listing.poster_id == actor.pk:
        raise HousingError(_("This is your own listing."))
    if not listing.is_visible:
        raise HousingError(_("This listing is no longer on the board."))
    _check_not_banned(actor)
    _rate_limit(actor)
    conversation, _created = Conversation.objects.get_or_create(listing=listing, member=actor)
    _add_message(conversation, actor, body, listing.poster)
    return conversation


def participants(conversation: Conversation) -> tuple[int, int]:
    return conversation.member_id, conversation.listing.poster_id


@transaction.atomic
def reply(conversation: Conversation, *, actor, body: str) -> ConversationMessage:
    body = _check_body(body)
    member_id, poster_id = participants(conversation)
    if actor.pk not in (member_id, poster_id):
        raise HousingError(_("You are not part of this conversation."))
    _check_not_banned(actor)
    _rate_limit(actor)
    other = conversation.listing.poster if actor.pk == member_id else conversation.member
    return _add_message(conversation, actor, body, other)


def _add_message(conversation: Conversation, author, body: str, recipient) -> ConversationMessage:
    now = timezone.now()
    message = ConversationMessage.objects.create(
        conversation=conversation, author=author, body=body, created_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    notify(
        recipient,
        notices.MESSAGE,
        params={"who": author.pseudonym, "title": conversation.listing.title},
        link=reverse("housing:conversation", args=[conversation.pk]),
    )
    return message


def conversations_of(user) -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(Q(member=user) | Q(listing__poster=user))
        .select_related("listing", "listing__district", "member", "listing__poster")
        .annotate(message_count=Count("messages"))
        .order_by("-updated_at")
    )


def member_waiting(user) -> dict:
    """For a member's home, one query each: `listings`, theirs on the board now;
    `conversations`, those they are part of (as in `conversations_of`; reading is not
    tracked, so there is no "unread")."""
    return {
        "listings": Listing.objects.visible().filter(poster=user).count(),
        "conversations": Conversation.objects.filter(
            Q(member=user) | Q(listing__poster=user)
        ).count(),
    }


# --- expiry ------------------------------------------------------------------------------


def remind_expiring(now=None) -> int:
    """Tell posters, once, that their listing leaves the board in three days."""
    now = now or timezone.now()
    due = Listing.objects.filter(
        status=Listing.Status.PUBLISHED,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=REMIND_DAYS),
        expiry_reminded_at__isnull=True,
    ).select_related("poster")
    count = 0
    for listing in due:
        with transaction.atomic():
            updated = Listing.objects.filter(pk=listing.pk, expiry_reminded_at__isnull=True).update(
                expiry_reminded_at=now
            )
            if not updated:
                continue
            notify(
                listing.poster,
                notices.EXPIRING,
                params={
                    "title": listing.title,
                    "date": timezone.localdate(listing.expires_at).isoformat(),
                },
                link=reverse("housing:mine"),
            )
            count += 1
    if count:
        pagecache.invalidate("housing")
    return count


# --- retention ---------------------------------------------------------------------------


def purge_conversations(now=None) -> int:
    """Delete conversations (and their messages) about listings no longer on the board,
    KROV_HOUSING_RETENTION_DAYS after their last message. Returns how many were deleted."""
    now = now or timezone.now()
    stale = Conversation.objects.filter(
        updated_at__lt=now - timedelta(days=settings.KROV_HOUSING_RETENTION_DAYS)
    ).exclude(listing__status=Listing.Status.PUBLISHED, listing__expires_at__gt=now)
    deleted = 0
    for pk in list(stale.values_list("pk", flat=True)[:5000]):
        Conversation.objects.filter(pk=pk).delete()
        deleted += 1
    return deleted


def purge_photos(now=None) -> int:
    """Delete the photos (files and rows) of listings that left the board more than
    KROV_HOUSING_RETENTION_DAYS ago: a stranger's rooms are not kept for ever. Returns how
    many photos were deleted."""
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    before = now - timedelta(days=settings.KROV_HOUSING_RETENTION_DAYS)
    gone = ListingPhoto.objects.filter(
        Q(listing__status=Listing.Status.PUBLISHED, listing__expires_at__lt=before)
        | Q(listing__closed_at__lt=before)
    )
    deleted = 0
    for photo in list(gone[:5000]):
        photo.delete()
        default_storage.delete(photo.image)
        deleted += 1
    return deleted
