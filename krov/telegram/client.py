"""The Bot API client: python-telegram-bot's Bot on a private event loop, so the (sync)
worker can call it between ORM calls. Errors come out sorted for the transport:
`Blocked` (403: the person blocked the bot), `Permanent` (400 and the like: retrying will
not help) and `Transient` (429 with retry_after, 5xx, network; retry later)."""

from __future__ import annotations

import asyncio
import os
import warnings
from datetime import timedelta
from typing import Any

from django.conf import settings
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

# Opt in to PTB's future behaviour (time periods as timedelta); without it PTB warns on
# every 429 it parses.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ALLOWED_METHODS = {
    "send_message",
    "send_photo",
    "send_voice",
    "send_document",
    "send_video",
    "send_audio",
    "send_animation",
    "send_video_note",
    "copy_message",
    "edit_message_text",
    "answer_callback_query",
    "set_webhook",
    "get_webhook_info",
    "delete_webhook",
    "get_me",
    "get_file",
    "set_my_name",
    "set_my_description",
    "set_my_short_description",
}


class Permanent(Exception):
    """The call can never succeed as it is."""


class Blocked(Permanent):
    """403: the person blocked the bot or left the chat."""


class Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns about int vs timedelta; we accept both
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def api_base_url() -> str:
    return settings.TELEGRAM_API_BASE_URL.rstrip("/") + "/bot"


def configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


class Client:
    """Use as a context manager; `call` runs one Bot API method and returns its result."""

    def __init__(self, *, timeout: float = 10.0):
        self.loop = asyncio.new_event_loop()
        request = HTTPXRequest(
            connection_pool_size=8,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )
        self.bot = Bot(
            settings.TELEGRAM_BOT_TOKEN or "0:unset",
            base_url=api_base_url(),
            base_file_url=settings.TELEGRAM_API_BASE_URL.rstrip("/") + "/file/bot",
            request=request,
            get_updates_request=HTTPXRequest(),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.loop.run_until_complete(self.bot.shutdown())
        finally:
            self.loop.close()

    def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """A file a chat sent the bot, fetched from Telegram into memory (never to disk);
        Permanent when it is larger than `max_bytes`."""
        file = self.call("get_file", {"file_id": file_id})
        if file.file_size and file.file_size > max_bytes:
            raise Permanent("the file is too large to show")
        try:
            data = self.loop.run_until_complete(file.download_as_bytearray())
        except NetworkError as exc:
            raise Transient(str(exc)[:200]) from exc
        except TelegramError as exc:
            raise Permanent(str(exc)[:200]) from exc
        if len(data) > max_bytes:
            raise Permanent("the file is too large to show")
        return bytes(data)

    def call(self, method: str, params: dict[str, Any]) -> Any:
        if method not in ALLOWED_METHODS:
            raise Permanent(f"method {method!r} is not allowed")
        params = dict(params)
        if isinstance(params.get("reply_markup"), dict):
            params["reply_markup"] = InlineKeyboardMarkup.de_json(params["reply_markup"], self.bot)
        uploads = _open_media(params)
        if uploads:
            # An upload takes longer than a call: up to 50 MB on the server's line.
            params.setdefault("write_timeout", UPLOAD_TIMEOUT)
            params.setdefault("read_timeout", UPLOAD_TIMEOUT)
        try:
            return self.loop.run_until_complete(getattr(self.bot, method)(**params))
        except RetryAfter as exc:
            raise Transient("rate limited", retry_after=retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Blocked(str(exc)[:200]) from exc
        except BadRequest as exc:
            raise Permanent(str(exc)[:200]) from exc
        except NetworkError as exc:  # includes timeouts and 5xx
            raise Transient(str(exc)[:200]) from exc
        except TelegramError as exc:
            raise Permanent(str(exc)[:200]) from exc
        finally:
            for handle in uploads:
                handle.close()


# A file of Krov's own storage, named in an outbound row's parameters (e.g. the `audio` of a
# bulletin's sendAudio): uploaded as multipart/form-data when the row is sent. Only names
# under these folders, so a row can never send anything else the server stores.
MEDIA_REFERENCE = "krov-media:"
MEDIA_FOLDERS = ("bulletins/audio/",)
MEDIA_PARAMETERS = ("audio", "document", "photo", "voice", "video", "thumbnail")
# The Bot API's limit for a file a bot uploads (sendAudio, sendDocument...).
UPLOAD_LIMIT = 50 * 1000 * 1000
UPLOAD_TIMEOUT = 300.0


def _open_media(params: dict[str, Any]) -> list[Any]:
    """Replace every `krov-media:<name>` reference in `params` by the stored file, opened
    (the caller closes them). Permanent when a name is outside MEDIA_FOLDERS, missing, or
    larger than Telegram takes."""
    from django.core.files.storage import default_storage
    from telegram import InputFile

    opened = []
    for key in MEDIA_PARAMETERS:
        value = params.get(key)
        if not isinstance(value, str) or not value.startswith(MEDIA_REFERENCE):
            continue
        name = value[len(MEDIA_REFERENCE) :]
        if ".." in name or not name.startswith(MEDIA_FOLDERS):
            raise Permanent("not a file Krov sends")
        try:
            size = default_storage.size(name)
            handle = default_storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            raise Permanent("the file is gone") from None
        if size > UPLOAD_LIMIT:
            handle.close()
            raise Permanent("the file is larger than Telegram takes")
        opened.append(handle)
        params[key] = InputFile(handle, filename=name.rsplit("/", 1)[-1], attach=False)
    return opened
