"""The webhook (Telegram → Krov), the volunteer's link page, and the debug-only chat
simulator at /dev/telegram."""

from __future__ import annotations

import hmac
import json
import secrets
import time
import urllib.request
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from krov.accounts.models import User
from krov.aid import services as aid
from krov.core.access import public, requires
from krov.telegram import intake, services

SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105 - a header name


def _secret_ok(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.META.get(SECRET_HEADER, "")
    if not expected:
        return False  # no secret configured: the webhook is closed
    return hmac.compare_digest(given.encode(), expected.encode())


@public  # authenticated by the secret-token header, checked in constant time
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    if not _secret_ok(request):
        return JsonResponse({"ok": False, "description": "forbidden"}, status=403)
    try:
        data = intake.parse(request.body)
    except intake.BadUpdate as error:
        return JsonResponse({"ok": False, "description": str(error)}, status=400)
    callback_id = intake.callback_id_of(data)
    try:
        intake.store(data)
    except intake.TryAgain:
        # Nothing could be sealed to just now (a team-key renewal at this very moment): not
        # stored, so Telegram sends the update again shortly.
        return JsonResponse({"ok": False, "description": "try again"}, status=503)
    if callback_id:
        # A button press is answered in the webhook's own reply (Telegram makes the call):
        # its id, which carries the sender's Telegram id, is never stored or queued.
        return JsonResponse({"method": "answerCallbackQuery", "callback_query_id": callback_id})
    return JsonResponse({"ok": True})


# --- volunteers link their Telegram -------------------------------------------------------


@requires("accounts.answer_help_requests")
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    profile = aid.ensure_profile(user)
    code = None
    if request.method == "POST":
        if request.POST.get("action") == "unlink":
            services.unlink(profile)
            messages.success(request, _("Telegram is unlinked."))
            return redirect("telegram_web:link")
        code = services.create_link_code(profile, actor=user)
    context = {
        "code": code,
        "linked": services.is_linked(profile),
        "minutes": services.LINK_MINUTES,
    }
    response = render(request, "telegram/link.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- /dev/telegram: a Telegram user, simulated (debug only) ---------------------------------


def _dev_only() -> None:
    if not settings.DEBUG or not settings.TELEGRAM_BOT_TOKEN:
        raise Http404


def _fake_url(path: str) -> str:
    return settings.TELEGRAM_API_BASE_URL.rstrip("/") + path


def _post_update(request: HttpRequest, update: dict) -> int:
    data = json.dumps(update).encode()
    outgoing = urllib.request.Request(  # noqa: S310 - our own webhook on this server
        request.build_absolute_uri("/telegram/webhook"),
        data=data,
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": settings.TELEGRAM_WEBHOOK_SECRET,
        },
        method="POST",
    )
    with urllib.request.urlopen(outgoing, timeout=10) as answer:  # noqa: S310
        status, reply = answer.status, json.loads(answer.read() or b"{}")
    if isinstance(reply.get("method"), str):  # as Telegram does with a webhook's reply
        params = {key: value for key, value in reply.items() if key != "method"}
        call = urllib.request.Request(  # noqa: S310 - the fake Bot API, development only
            _fake_url(f"/bot{settings.TELEGRAM_BOT_TOKEN}/{reply['method']}"),
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(call, timeout=10) as answer:  # noqa: S310
            answer.read()
    return status


@public  # debug only: 404 unless KROV_DEBUG is on and the fake Bot API is in use
@require_http_methods(["GET", "POST"])
def dev_chat(request: HttpRequest) -> HttpResponse:
    _dev_only()
    chat_id = request.session.get("dev_telegram_chat")
    if chat_id is None or request.POST.get("action") == "new":
        chat_id = 100000 + secrets.randbelow(900000)
        request.session["dev_telegram_chat"] = chat_id
    if request.method == "POST" and request.POST.get("action") != "new":
        sender = {"id": chat_id, "is_bot": False, "first_name": "Dev"}
        update_id = int(time.time() * 1000) % 2**31 + secrets.randbelow(1000)
        if request.POST.get("callback"):
            update = {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": sender,
                    "chat_instance": str(chat_id),
                    "data": request.POST["callback"][:64],
                    "message": {
                        "message_id": int(request.POST.get("message_id") or 1),
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"},
                    },
                },
            }
        else:
            message = {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": sender,
                "text": request.POST.get("text", "")[:4000],
            }
            if request.POST.get("reply_to"):
                message["reply_to_message"] = {
                    "message_id": int(request.POST["reply_to"]),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                }
            update = {"update_id": update_id, "message": message}
        _post_update(request, update)
        return redirect("telegram:dev_chat")
    return render(request, "telegram/dev_chat.html", {"chat_id": chat_id})


@public  # debug only, as above
def dev_chat_messages(request: HttpRequest) -> HttpResponse:
    _dev_only()
    chat_id = request.session.get("dev_telegram_chat")
    bot_messages = []
    if chat_id is not None:
        with urllib.request.urlopen(_fake_url(f"/_fake/chats/{chat_id}"), timeout=5) as answer:  # noqa: S310
            bot_messages = [
                {
                    "message_id": m.get("message_id"),
                    "text": m.get("text") or m.get("caption") or "",
                    "buttons": [
                        b
                        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                        for b in row
                    ],
                }
                for m in json.loads(answer.read())
            ]
    return render(request, "telegram/partials/_dev_messages.html", {"bot_messages": bot_messages})
