"""Uploaded pictures made safe to publish: verified, turned upright, shrunk to fit a box and
saved as JPEG without any metadata (EXIF, and with it a GPS position, is dropped)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 60_000_000


class PictureError(ValueError):
    """The upload is not a picture we accept; the message is for people."""


def normalise(upload, *, box: tuple[int, int] = (1600, 1000)) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > MAX_BYTES:
        raise PictureError(_("The picture is too large (8 MB at most)."))
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PictureError(_("The picture is too large (8 MB at most)."))
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, PictureError):
            raise
        raise PictureError(
            _("This file is not a picture we can read (JPEG, PNG or WebP).")
        ) from None
    upright.thumbnail(box)
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=82, optimize=True)  # no exif= → none written
    return out.getvalue()


def store(data: bytes, *, prefix: str, replaces: str = "") -> str:
    import secrets

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save(f"{prefix}-{secrets.token_hex(8)}.jpg", ContentFile(data))
    if replaces:
        default_storage.delete(replaces)
    return name
