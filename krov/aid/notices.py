"""What mutual aid tells people (krov.core.notify). None of these takes a value: a
notification says that something waits and where, never what a case is about."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from krov.core.notify import define

SOMETHING_NEW = _("Krov: something new is waiting for you")

OFFER = define(
    "aid_offer",
    subject=SOMETHING_NEW,
    body=_("A request for help may suit you. Please open your console to answer it."),
)
ASSIGNED = define(
    "aid_assigned",
    subject=SOMETHING_NEW,
    body=_("A coordinator has given you a case. Please open your console."),
)
MESSAGE = define(
    "aid_message",
    subject=SOMETHING_NEW,
    body=_("There is a new message in one of your cases."),
)
NEW_REQUEST = define(
    "aid_new_request",
    subject=SOMETHING_NEW,
    body=_("A new request for help is waiting in triage."),
)
# Life or safety: every coordinator hears of it, even one who chose no notifications.
CRITICAL_UNANSWERED = define(
    "aid_critical_waiting",
    subject=_("Krov: life or safety at risk, nobody has answered"),
    body=_(
        "A request marked 'life or safety at risk now' has had no answer for %(minutes)s "
        "minutes. Please open triage now."
    ),
    params=("minutes",),
    security=True,
)
QUESTION = define(
    "aid_question",
    subject=_("Krov: a volunteer asks the coordinators"),
    body=_("A volunteer has a question about one of their cases."),
)
RETURNED = define(
    "aid_returned",
    subject=_("Krov: a case needs a new volunteer"),
    body=_("A case has come back to triage and needs a new volunteer."),
)
UNDELIVERABLE = define(
    "aid_undeliverable",
    subject=_("Krov: a message could not be delivered"),
    body=_("The requester has blocked the bot; your message did not arrive."),
)
# A key the person did not make means someone else holds their session and second factor:
# they hear of it even if they chose to receive no notifications.
NEW_KEY = define(
    "aid_new_key",
    subject=_("Krov: a new key for your account"),
    body=_(
        "A new key for reading cases was made for your Krov account. If it was not you, "
        "press Panic in Krov now and tell a coordinator."
    ),
    security=True,
)
