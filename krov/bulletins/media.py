"""Serving stored media files with HTTP Range (RFC 9110 §14), so a phone can seek in a
recording without loading it all.

Krov serves its media itself (as covers are, krov.*.views.cover) and the proxy in front
(deploy/nginx/krov.conf, deploy/Caddyfile) passes the Range header and the 206 answer
through unchanged; the names served are random per upload, so the files are cached for a
year and never change under their address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """The one byte range (first, last; inclusive) a Range header asks of `size` bytes;
    None to send the whole file (no header, a malformed one, several ranges, or a unit
    other than bytes: RFC 9110 lets a server ignore those); "unsatisfiable" for a range
    wholly outside the file (416)."""
    header = header.strip().replace(" ", "")
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return "unsatisfiable"
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def _stream(name: str, start: int, length: int) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def ranged_file(
    request: HttpRequest, name: str, *, content_type: str, cache_control: str
) -> HttpResponseBase:
    """The stored file `name` as a 200 (whole), 206 (the range asked) or 416 answer, with
    Accept-Ranges, an ETag (the random name) and If-Range honoured."""
    size = default_storage.size(name)
    etag = '"' + name.rsplit("/", 1)[-1].replace('"', "") + '"'
    asked = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        asked = None  # the file changed since the client's part: send it whole
    if request.headers.get("If-None-Match", "").strip() == etag and asked is None:
        response: HttpResponseBase = HttpResponse(status=304)
    elif asked == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = asked if isinstance(asked, tuple) else (0, size - 1)
        length = max(0, end - start + 1)
        body: Iterator[bytes] = (
            iter(()) if request.method == "HEAD" else _stream(name, start, length)
        )
        response = StreamingHttpResponse(body, content_type=content_type)
        response["Content-Length"] = str(length)
        if isinstance(asked, tuple):
            response.status_code = 206
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
