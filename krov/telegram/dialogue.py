"""The bot's side of the conversation. `handle(update)` gets one parsed Update and does
what it asks through the aid and telegram services; it never talks to the Bot API itself
(everything goes out through the outbox)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import override
from telegram import CallbackQuery, Update
from telegram import Message as TelegramMessage

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Offer, Skill, VolunteerProfile
from krov.core import inputs
from krov.telegram import chat_ids, sealed_intake, services
from krov.telegram.models import Chat

log = logging.getLogger(__name__)

LANGUAGE_BUTTONS = [
    [("Українська", "lang:uk"), ("Русский", "lang:ru")],
    [("English", "lang:en"), ("Srpski", "lang:sr-latn")],
]


def handle(
    update: Update, *, sealed: dict | None = None, edited: bool = False, chat_key: str = ""
) -> None:
    """`sealed`: the parts of the update sealed at the webhook (telegram.sealed_intake);
    `edited`: the message is an edit of an earlier one (telegram.intake); `chat_key`: the
    chat's key, which finds it when the stored update carries 0 for its id (chat_ids)."""
    chat_obj = update.effective_chat
    if chat_obj is None or chat_obj.type != "private":
        # Groups and channels are not a place for requests. (Button presses are answered by
        # the webhook's reply, so none is left spinning.)
        return
    sender = update.effective_user
    if chat_obj.id:
        chat = services.get_or_create_chat(
            chat_obj.id, language_hint=sender.language_code if sender else None
        )
    else:
        found = Chat.objects.filter(key=chat_key).first() if chat_key else None
        if found is None:
            # Forgotten (/forget) while this update waited; its id was never stored.
            log.info("a telegram update's chat is gone; nothing to answer")
            return
        chat = found
    with override(services.chat_language(chat)):
        if update.callback_query is not None:
            _callback(chat, update.callback_query)
        elif update.message is not None and edited:
            _edited(chat, update.message, sealed or {})
        elif update.message is not None:
            _message(chat, update.message, sealed or {})


# --- callbacks (button presses) ----------------------------------------------------------------


# Where a language button still means something: before a request is described. Pressed
# anywhere else (an old message's button), it is answered and ignored.
LANGUAGE_STATES = frozenset({Chat.State.NEW, Chat.State.LANGUAGE, Chat.State.CATEGORY})


def _open_case(chat: Chat) -> HelpRequest | None:
    """The requester's request while it is open: what they write belongs to it."""
    case = chat.request
    return case if case is not None and case.is_open and not case.purged_at else None


def _callback(chat: Chat, query: CallbackQuery) -> None:
    data = query.data or ""
    if data.startswith("offer:") and chat.volunteer_id:
        _offer_answer(chat, data)
    elif chat.state == Chat.State.LOCKED:
        services.send_text(chat, _("This offer is no longer open."))
    elif data.startswith(("lang:", "cat:")) and (chat.volunteer_id or _open_case(chat)):
        # An old language or category button, pressed while a request is open (or in a
        # volunteer's chat): answered above and ignored, so the chat stays with its case.
        return
    elif data.startswith("lang:") and chat.state in LANGUAGE_STATES:
        services.set_dialogue_state(chat, Chat.State.CATEGORY, language=data.split(":", 1)[1])
        with override(chat.language):
            services.send_text(chat, _notice())
            services.send_text(chat, _("What kind of help do you need?"), buttons=_categories())
    elif data.startswith("cat:") and chat.state == Chat.State.CATEGORY:
        slug = data.split(":", 1)[1]
        if not Skill.objects.filter(slug=slug, active=True).exists():
            slug = "other"
        services.set_dialogue_state(chat, Chat.State.DESCRIBE, skill_slug=slug)
        services.send_text(
            chat,
            _(
                "Please describe what you need in your own words, in one message. Do not "
                "write your full name, address or phone number unless a volunteer asks."
            ),
        )
    elif data == "forget:yes" and chat.state == Chat.State.FORGET:
        _forget(chat)
    elif data == "forget:no":
        services.set_dialogue_state(chat, Chat.State.CASE if chat.request_id else Chat.State.NEW)
        services.send_text(chat, _("Nothing was deleted."))


def _categories() -> list[list[tuple[str, str]]]:
    skills = list(Skill.objects.filter(active=True))
    return [[(str(skill.label), f"cat:{skill.slug}")] for skill in skills]


def _notice() -> str:
    return _(
        "Before you write: we keep only what you send here and the number of this chat, "
        "encrypted, to answer you. A volunteer answers under a pseudonym and does not see "
        "your Telegram name. %(days)s days after your request is closed, the conversation is "
        "deleted. Send /forget at any time to delete everything at once."
    ) % {"days": settings.KROV_RETENTION_DAYS}


def _volunteer_or_unlink(chat: Chat) -> VolunteerProfile | None:
    """The chat's volunteer, if the account may still reach cases; else the chat is unlinked
    (a removed second factor, a lock, a lost role) and told so."""
    profile = chat.volunteer
    if profile is None or services.volunteer_may_use_chat(profile):
        return profile
    services.detach_volunteer(chat)
    services.send_text(
        chat,
        _(
            "This chat is no longer linked to your Krov account: the account has no second "
            "factor (or is locked). Add one in Krov, then link this chat again."
        ),
    )
    return None


def _offer_answer(chat: Chat, data: str) -> None:
    _prefix, offer_id, answer = (data.split(":") + ["", ""])[:3]
    profile = _volunteer_or_unlink(chat)
    if profile is None:
        return
    offer_uuid = inputs.uuid_or_none(offer_id)
    offer = (
        Offer.objects.filter(public_id=offer_uuid).select_related("request").first()
        if offer_uuid
        else None
    )
    if offer is None or profile is None or offer.volunteer_id != profile.pk:
        services.send_text(chat, _("This offer is no longer open."))
        return
    try:
        if answer == "accept":
            case = aid.accept_offer(offer, actor=profile.user)
            services.send_case_to_volunteer(case, chat)
        else:
            aid.decline_offer(offer, actor=profile.user)
            services.send_text(chat, _("Declined. The request goes to the next volunteer."))
    except aid.AidError as error:
        services.send_text(chat, str(error))


# --- messages --------------------------------------------------------------------------------


def _message(chat: Chat, message: TelegramMessage, sealed: dict) -> None:
    text = (message.text or message.caption or "").strip()
    command = text.split()[0].lower().split("@")[0] if text.startswith("/") else ""
    if command == "/link":
        sender = message.from_user
        _link(chat, text, (sender.language_code or "") if sender else "")
    elif command == "/unlink" and (chat.volunteer_id or chat.state == Chat.State.LOCKED):
        if chat.volunteer is not None:
            services.unlink(chat.volunteer)  # nothing queued for it goes out; its id goes
        chat.refresh_from_db()
        services.set_dialogue_state(chat, Chat.State.NEW, volunteer=None)
        services.send_text(chat, _("This chat is no longer linked to your Krov account."))
    elif chat.state == Chat.State.LOCKED:
        # What a linked volunteer's chat answers; nothing reaches a case from here.
        services.send_text(chat, _("To answer a case, reply to one of its messages."))
    elif chat.volunteer is not None:
        profile = _volunteer_or_unlink(chat)
        if profile is not None:
            _volunteer_message(chat, profile, message, sealed)
    elif "too_long" in sealed:
        services.send_text(chat, aid.too_long(sealed["too_long"]))
    elif command == "/start":
        _start(chat)
    elif command == "/help":
        services.send_text(chat, _help())
    elif command == "/status":
        _status(chat)
    elif command == "/forget":
        services.set_dialogue_state(chat, Chat.State.FORGET)
        services.send_text(
            chat,
            _("Delete your request and this conversation now? This cannot be undone."),
            buttons=[[(_("Yes, delete everything"), "forget:yes"), (_("No"), "forget:no")]],
        )
    elif (case := _open_case(chat)) is not None:
        # Whatever state the chat is in (an old button may have moved it), a chat with an
        # open request adds to it: nothing it writes is lost.
        _add_to_case(chat, case, message, sealed)
    elif chat.state == Chat.State.DESCRIBE:
        _submit(chat, message, sealed)
    elif chat.state == Chat.State.CASE and chat.request is not None:
        _add_to_case(chat, chat.request, message, sealed)
    else:
        services.send_text(chat, _("Write /start to ask for help."))


def _edited(chat: Chat, message: TelegramMessage, sealed: dict) -> None:
    """An edit of an earlier message. A requester's joins their open request as a new,
    marked message (what they corrected must reach the volunteer); a volunteer is told that
    an edit is not passed on (the requester already has the first version). Anywhere else it
    changes nothing: an edited /start or an edit while choosing is not a new step."""
    if chat.state == Chat.State.LOCKED:
        return
    if chat.volunteer_id is not None:
        if message.reply_to_message is not None:
            services.send_text(
                chat,
                _("Edits do not reach the requester: send the correction as a new reply."),
            )
        return
    if (case := _open_case(chat)) is not None:
        _add_to_case(chat, case, message, sealed)


def _attachment_ref(message: TelegramMessage) -> str:
    """The file it carries as "photo:<file_id>" and the like (the kinds the sealed intake
    keeps too); empty when none."""
    if message.photo:
        return "photo:" + message.photo[-1].file_id
    for kind in sealed_intake.ATTACHMENT_KINDS[1:]:
        part = getattr(message, kind, None)
        if part is not None and part.file_id:
            return f"{kind}:{part.file_id}"
    return ""


def _body(chat: Chat, message: TelegramMessage) -> str:
    """What a message says, as the sealed intake writes it: the text (or caption), then
    what is neither text nor a file (a location, a contact, a quote) written out; a file
    alone is named."""
    text = (message.text or message.caption or "").strip()
    body = "\n".join([text, *sealed_intake.described(message.to_dict(), chat.language)]).strip()
    if body:
        return body
    attachment = _attachment_ref(message)
    return sealed_intake.placeholder(attachment, chat.language) if attachment else ""


def _start(chat: Chat) -> None:
    if chat.request_id and chat.request and chat.request.is_open:
        services.send_text(
            chat,
            _(
                "Your request %(code)s is open. Write here to add to it, /status to see "
                "where it is, or /forget to delete it."
            )
            % {"code": chat.request.code},
        )
        return
    services.set_dialogue_state(chat, Chat.State.LANGUAGE, request=None)
    services.send_text(chat, "Мова · Язык · Language · Jezik", buttons=LANGUAGE_BUTTONS)


def _help() -> str:
    return _(
        "/start: ask for help\n/status: where your request is\n/forget: delete your request "
        "and this conversation now\n/help: this text"
    )


def _status(chat: Chat) -> None:
    case = chat.request
    if case is None or case.purged_at:
        services.send_text(chat, _("You have no request. Write /start to ask for help."))
        return
    services.send_text(
        chat,
        _("Your request %(code)s: %(status)s.")
        % {"code": case.code, "status": case.get_status_display()},
    )


def _contact(chat: Chat, pending) -> str:
    """How the case reaches the requester again after the workers restart: the chat's id,
    sealed to the case's key (no key on the server opens it), or as before sealing."""
    known = chat.seen_id or chat_ids.open_id(chat)
    if not known:
        return ""  # the chat's next message seals its id to the workers again
    if pending is not None:
        return aid.seal_pending(pending, "request.contact", str(known))
    return str(known)


def _submit(chat: Chat, message: TelegramMessage, sealed: dict) -> None:
    pending = aid.pending_key(sealed.get("case")) if sealed.get("kind") == "pending" else None
    if sealed and pending is None:
        # Sealed to a key that is gone (renewed away, or a day old): ask again, lose nothing.
        services.send_text(chat, _("Please send your message again."))
        return
    body = sealed["description"] if pending is not None else _body(chat, message)
    skill = Skill.objects.filter(slug=chat.skill_slug or "other").first() or Skill.objects.get(
        slug="other"
    )
    try:
        submitted = aid.submit_request(
            channel=HelpRequest.Channel.TELEGRAM,
            language=aid.serving_language(chat.language),
            skill=skill,
            description=body,
            contact_handle=_contact(chat, pending),
            contact_lookup=chat.contact_lookup,
            pending=pending,
        )
    except aid.AidError as error:
        services.send_text(chat, str(error))
        return
    case = submitted.request
    if pending is not None:
        if sealed.get("attachment"):
            aid.post_requester_message(
                case, body=sealed["message"], attachment_ref=sealed["attachment"], presealed=True
            )
    elif attachment := _attachment_ref(message):
        aid.post_requester_message(case, body=body, attachment_ref=attachment)
    services.set_dialogue_state(chat, Chat.State.CASE, request=case)
    services.send_text(
        chat,
        _(
            "Thank you. Your request code is %(code)s. A volunteer will answer here; you can "
            "keep writing to add to your request."
        )
        % {"code": case.code},
    )


def _add_to_case(chat: Chat, case: HelpRequest, message: TelegramMessage, sealed: dict) -> None:
    # A message sealed to the key made for the case to come belongs to this case once the
    # case took that key over (quick follow-ups, albums): its case id is the case's.
    if case.is_open and sealed and sealed.get("case") != str(case.public_id):
        services.send_text(chat, _("Please send your message again."))
        return
    try:
        if not case.is_open:
            raise aid.CaseClosed(_("This case is closed."))
        if sealed:
            aid.post_requester_message(
                case,
                body=sealed["message"],
                attachment_ref=sealed.get("attachment", ""),
                presealed=True,
                public_id=inputs.uuid_or_none(sealed.get("message_id", "")),
                relay_sealed=sealed.get("relay"),
                relay_sealed_attachment=sealed.get("relay_attachment"),
            )
        else:
            aid.post_requester_message(
                case, body=_body(chat, message), attachment_ref=_attachment_ref(message)
            )
        if chat.state not in (Chat.State.CASE, Chat.State.FORGET):
            services.set_dialogue_state(chat, Chat.State.CASE)  # back with its case
    except aid.CaseClosed:
        services.set_dialogue_state(chat, Chat.State.NEW, request=None)
        services.send_text(
            chat,
            _(
                "Your request is closed, so nobody will read this. If you need help again, "
                "write /start to send a new request."
            ),
        )
    except aid.AidError as error:
        services.send_text(chat, str(error))


def _forget(chat: Chat) -> None:
    # Every case of this chat goes, not only the current one: an earlier closed case would
    # otherwise still name the chat (by its contact) until its own purge.
    doomed = (
        {
            case.pk: case
            for case in HelpRequest.objects.filter(
                purged_at__isnull=True, contact_lookup=chat.contact_lookup
            )
        }
        if chat.contact_lookup
        else {}
    )
    if chat.request is not None:
        doomed[chat.request.pk] = chat.request
    for case in doomed.values():
        aid.forget(case)
    # Confirm through the workers' key (the chat row itself goes now).
    with override(chat.language):
        text = _("Everything is deleted. Write /start if you need help again.")
    services.forget_chat(chat, text)


def _link(chat: Chat, text: str, language: str) -> None:
    parts = text.split()
    if len(parts) != 2:
        services.send_text(chat, _("Send /link and the code from your Krov console."))
        return
    try:
        services.link(chat, parts[1], language=language)
    except services.TelegramError as error:
        services.send_text(chat, str(error))
        return
    services.send_text(
        chat,
        _(
            "This chat is linked to your Krov account. Offers and messages of your cases "
            "arrive here; reply to a case message to answer it. /unlink ends this."
        ),
    )


def _volunteer_message(
    chat: Chat, profile: VolunteerProfile, message: TelegramMessage, sealed: dict
) -> None:
    replied = message.reply_to_message
    case = services.case_replied_to(chat, replied.message_id if replied is not None else None)
    if case is None:
        services.send_text(chat, _("To answer a case, reply to one of its messages."))
        return
    try:
        if sealed.get("kind") == "volunteer_reply" and sealed.get("case") == str(case.public_id):
            aid.post_reply(
                case,
                actor=profile.user,
                body=sealed["message"],
                presealed=True,
                public_id=inputs.uuid_or_none(sealed.get("message_id", "")),
                relay_sealed=sealed.get("relay"),
            )
        elif "too_long" in sealed:
            services.send_text(chat, aid.too_long(sealed["too_long"]))
        elif case.is_sealed or sealed:
            services.send_text(chat, _("To answer a case, reply to one of its messages."))
        else:
            aid.post_reply(case, actor=profile.user, body=_body(chat, message))
    except aid.AidError as error:
        services.send_text(chat, str(error))
