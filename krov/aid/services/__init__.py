"""Mutual aid: every rule about help requests, cases, offers, the relay and retention.

Channel-neutral: the web views and the Telegram dialogue call these functions; neither
saves an aid model itself. Functions that act for a person take a keyword-only `actor`.

A package along its sections (Zulip's actions layout); every name stays importable from
`krov.aid.services`.
"""

from __future__ import annotations

from krov.aid.services.access import (
    access_log,
    can_view_case,
    can_write_case,
    get_case_for_user,
    is_coordinator,
    profile_of,
)
from krov.aid.services.base import (
    ALIAS_WORDS,
    CODE_ALPHABET,
    AidError,
    CaseClosed,
    Outcome,
    RateLimited,
    Status,
    Submitted,
    case_purged,
    check_text,
    intake_allowed,
    intake_terms,
    keyed_hash,
    serving_language,
)
from krov.aid.services.catalogue import save_canned_reply, save_skill
from krov.aid.services.channels import register_relay, register_volunteer_relay
from krov.aid.services.intake import (
    case_for_token,
    coordinators,
    notify_coordinators,
    submit_request,
)
from krov.aid.services.offers import (
    accept_offer,
    assign,
    decline_offer,
    expire_offers,
    offer,
    offer_next,
)
from krov.aid.services.relay import (
    add_note,
    case_link,
    close_case,
    hand_over,
    mark_delivery,
    mark_seen_by_requester,
    post_reply,
    post_requester_message,
)
from krov.aid.services.retention import forget, purge
from krov.aid.services.triage import (
    mark_spam,
    merge,
    open_questions,
    requester_may_write,
    triage,
    triage_queue,
)
from krov.aid.services.volunteers import (
    current_shift,
    end_shift,
    ensure_profile,
    pause_without_second_factor,
    release_after_panic,
    set_trust,
    start_shift,
    update_profile,
    vouch_for,
)

__all__ = [
    "ALIAS_WORDS",
    "AidError",
    "CODE_ALPHABET",
    "CaseClosed",
    "Outcome",
    "RateLimited",
    "Status",
    "Submitted",
    "case_link",
    "accept_offer",
    "access_log",
    "add_note",
    "assign",
    "can_view_case",
    "can_write_case",
    "case_for_token",
    "case_purged",
    "check_text",
    "close_case",
    "coordinators",
    "decline_offer",
    "end_shift",
    "ensure_profile",
    "expire_offers",
    "forget",
    "get_case_for_user",
    "hand_over",
    "intake_allowed",
    "intake_terms",
    "is_coordinator",
    "keyed_hash",
    "mark_delivery",
    "mark_seen_by_requester",
    "mark_spam",
    "merge",
    "notify_coordinators",
    "offer",
    "offer_next",
    "open_questions",
    "pause_without_second_factor",
    "post_reply",
    "post_requester_message",
    "profile_of",
    "purge",
    "register_relay",
    "register_volunteer_relay",
    "release_after_panic",
    "requester_may_write",
    "save_canned_reply",
    "save_skill",
    "serving_language",
    "set_trust",
    "current_shift",
    "start_shift",
    "submit_request",
    "triage",
    "triage_queue",
    "update_profile",
    "vouch_for",
]
