"""A fake Telegram Bot API: a real HTTP server speaking the Bot API wire format for the
methods Krov calls. Tests use it, and so does `make run` when no bot token is set (with the
debug page /dev/telegram playing a Telegram user).

It records every call, keeps each chat's messages, and can be told to fail: answer 429 with
`retry_after`, answer 500, or hang. Extra endpoints outside the Bot API, for tests and the
debug page: GET /_fake/calls, GET /_fake/chats/<chat_id>, POST /_fake/fail, POST /_fake/reset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Roof helper",
    "username": "krov_fake_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
FAKE_TOKEN = "123:fake"  # noqa: S105 - a fake token for the fake API
# Files sent on by reference: the method and the message field it answers with.
FILE_METHODS = {
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendAnimation": "animation",
    "sendVideoNote": "video_note",
}
SENDING = {"sendMessage", "sendPhoto", "sendVoice", "sendDocument", "copyMessage", *FILE_METHODS}


@dataclass
class Failure:
    status: int
    retry_after: int | None = None
    hang_seconds: float = 0.0
    method: str | None = None


@dataclass
class FakeState:
    token: str
    calls: list[tuple[str, dict]] = field(default_factory=list)
    chats: dict[str, list[dict]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    # file_id -> the file's bytes, for getFile and the file download (`add_file`).
    files: dict[str, bytes] = field(default_factory=dict)
    next_message_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self, method: str) -> Failure | None:
        with self.lock:
            for index, failure in enumerate(self.failures):
                if failure.method in (None, method):
                    return self.failures.pop(index)
        return None


def _coerce(value: str) -> Any:
    """Form values arrive as strings; nested objects as JSON strings (as PTB sends them)."""
    text = value.strip()
    if text[:1] in "{[" or text in {"true", "false"} or text.lstrip("-").isdigit():
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


# The Bot API's limit for a file a bot uploads (multipart/form-data).
UPLOAD_LIMIT = 50 * 1000 * 1000


class TooLarge(ValueError):
    """An uploaded file larger than the Bot API takes."""


def parse_params(
    content_type: str, body: bytes, *, uploads: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """The call's parameters. A file part of a multipart body (an upload, as sendAudio with a
    file) becomes {"upload": <file id>, "filename", "size", "content_type"}, its bytes kept
    in `uploads` under that file id (the fake's files, so getFile serves them too)."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=email_policy).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            if filename is None:
                params[name] = _coerce(payload.decode("utf-8", "replace"))
                continue
            if len(payload) > UPLOAD_LIMIT:
                raise TooLarge(name)
            file_id = f"upload-{hashlib.sha256(payload).hexdigest()[:16]}"
            if uploads is not None:
                uploads[file_id] = payload
            params[name] = {
                "upload": file_id,
                "filename": filename,
                "size": len(payload),
                "content_type": part.get_content_type(),
            }
        return params
    return {key: _coerce(values[-1]) for key, values in parse_qs(body.decode("utf-8")).items()}


def _message_json(state: FakeState, method: str, params: dict) -> dict:
    chat_id = params.get("chat_id")
    with state.lock:
        state.next_message_id += 1
        message_id = state.next_message_id
    chat_type = "channel" if str(chat_id).startswith("@") else "private"
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id if chat_type == "private" else -1001, "type": chat_type},
        "from": BOT_USER,
    }
    if method == "sendMessage":
        message["text"] = str(params.get("text", ""))
    elif method == "sendPhoto":
        message["photo"] = [
            {"file_id": str(params.get("photo")), "file_unique_id": "p", "width": 1, "height": 1}
        ]
        message["caption"] = str(params.get("caption", ""))
    elif method == "sendVoice":
        message["voice"] = {
            "file_id": str(params.get("voice")),
            "file_unique_id": "v",
            "duration": 1,
        }
    elif method == "sendDocument":
        message["document"] = {"file_id": str(params.get("document")), "file_unique_id": "d"}
    elif method in FILE_METHODS:
        field = FILE_METHODS[method]
        sent = params.get(field)
        message[field] = {
            "file_id": str(sent["upload"] if isinstance(sent, dict) else sent),
            "file_unique_id": field[0],
            "duration": 1,
            "width": 1,
            "height": 1,
            "length": 1,
        }
        message["caption"] = str(params.get("caption", ""))
    if params.get("reply_markup"):
        message["reply_markup"] = params["reply_markup"]
    with state.lock:
        state.chats.setdefault(str(chat_id), []).append(message)
    return message


def answer(state: FakeState, method: str, params: dict) -> tuple[int, dict]:
    """The Bot API's answer to `method` with `params`: (HTTP status, JSON body)."""
    with state.lock:
        state.calls.append((method, params))
    failure = state.take_failure(method)
    if failure is not None:
        if failure.hang_seconds:
            time.sleep(failure.hang_seconds)
        body: dict[str, Any] = {"ok": False, "error_code": failure.status}
        if failure.status == 429:
            body["description"] = f"Too Many Requests: retry after {failure.retry_after or 1}"
            body["parameters"] = {"retry_after": failure.retry_after or 1}
        elif failure.status == 403:
            body["description"] = "Forbidden: bot was blocked by the user"
        elif failure.status == 400:
            body["description"] = "Bad Request: chat not found"
        else:
            body["description"] = "Internal Server Error"
        return failure.status, body
    if method == "getMe":
        return 200, {"ok": True, "result": BOT_USER}
    if method == "setWebhook":
        state.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token", ""),
            "allowed_updates": params.get("allowed_updates") or [],
            "max_connections": params.get("max_connections", 40),
        }
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}
    if method == "deleteWebhook":
        state.webhook = {}
        return 200, {"ok": True, "result": True}
    if method == "getWebhookInfo":
        info = {
            "url": state.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
            "max_connections": state.webhook.get("max_connections", 40),
            "allowed_updates": state.webhook.get("allowed_updates", []),
        }
        return 200, {"ok": True, "result": info}
    if method in SENDING:
        if "chat_id" not in params:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat_id is empty",
            }
        return 200, {"ok": True, "result": _message_json(state, method, params)}
    if method == "getFile":
        with state.lock:
            content = state.files.get(str(params.get("file_id", "")))
        if content is None:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: invalid file_id",
            }
        file_id = str(params["file_id"])
        result = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id[-8:],
            "file_size": len(content),
            "file_path": f"files/{file_id}",
        }
        return 200, {"ok": True, "result": result}
    if method == "editMessageText":
        return 200, {"ok": True, "result": _message_json(state, "sendMessage", params)}
    if method in {
        "answerCallbackQuery",
        "setMyName",
        "setMyDescription",
        "setMyShortDescription",
        "setMyCommands",
    }:
        return 200, {"ok": True, "result": True}
    return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeBotAPI/1.0"
    state: FakeState

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        return  # quiet: tests and make run have their own output

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlparse(self.path).path
        if path == "/_fake/calls":
            with self.state.lock:
                self._send(200, [{"method": m, "params": p} for m, p in self.state.calls])
        elif path.startswith("/_fake/chats/"):
            chat_id = path.rsplit("/", 1)[-1]
            with self.state.lock:
                self._send(200, list(self.state.chats.get(chat_id, [])))
        elif unquote(path).startswith(f"/file/bot{self.state.token}/files/"):
            with self.state.lock:
                content = self.state.files.get(path.rsplit("/", 1)[-1])
            if content is None:
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        else:
            self._bot(path, {})

    def do_POST(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        body = self._body()
        if path == "/_fake/fail":
            spec = json.loads(body or b"{}")
            for _ in range(int(spec.get("count", 1))):
                self.state.failures.append(
                    Failure(
                        status=int(spec.get("status", 500)),
                        retry_after=spec.get("retry_after"),
                        hang_seconds=float(spec.get("hang", 0)),
                        method=spec.get("method"),
                    )
                )
            self._send(200, {"ok": True})
            return
        if path == "/_fake/reset":
            with self.state.lock:
                self.state.calls.clear()
                self.state.chats.clear()
                self.state.failures.clear()
            self._send(200, {"ok": True})
            return
        uploads: dict[str, bytes] = {}
        try:
            params = parse_params(self.headers.get("Content-Type", ""), body, uploads=uploads)
        except TooLarge:
            self._send(
                413,
                {"ok": False, "error_code": 413, "description": "Request Entity Too Large"},
            )
            return
        except ValueError:
            self._send(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: bad body"}
            )
            return
        if uploads:
            with self.state.lock:
                self.state.files.update(uploads)
        self._bot(path, params)

    def _bot(self, path: str, params: dict) -> None:
        prefix, _sep, method = path.rpartition("/")
        if prefix != f"/bot{self.state.token}":
            self._send(
                HTTPStatus.UNAUTHORIZED,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
            return
        status, body = answer(self.state, method, params)
        self._send(status, body)


class FakeBotAPI:
    """Start with `start()`, stop with `stop()`; `base_url` is what TELEGRAM_API_BASE_URL
    should be. Thread-safe; the state is inspectable in-process (`calls`, `chats`)."""

    def __init__(self, token: str = FAKE_TOKEN, host: str = "127.0.0.1", port: int = 0):
        self.state = FakeState(token=token)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def calls(self) -> list[tuple[str, dict]]:
        with self.state.lock:
            return list(self.state.calls)

    def add_file(self, file_id: str, content: bytes) -> None:
        """A file a chat sent: getFile knows it and the file URL serves it."""
        with self.state.lock:
            self.state.files[file_id] = content

    def sent_to(self, chat_id: int | str) -> list[dict]:
        with self.state.lock:
            return list(self.state.chats.get(str(chat_id), []))

    def fail_next(
        self,
        status: int,
        *,
        retry_after: int | None = None,
        hang: float = 0.0,
        method: str | None = None,
        count: int = 1,
    ) -> None:
        for _ in range(count):
            self.state.failures.append(Failure(status, retry_after, hang, method))

    def start(self) -> FakeBotAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
