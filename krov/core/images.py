"""Uploaded pictures made safe to publish: verified, turned upright, shrunk to fit a box and
saved as JPEG without any metadata (EXIF, and with it a GPS position, is dropped).

Only JPEG, PNG and WebP are read. The size in pixels is checked from the header, before
anything is decoded: a 7 KB PNG may claim 59 megapixels and would take most of a gigabyte
to decode. JPEGs are decoded at a reduced scale straight away (`draft`), the others are
reduced right after decoding, so the worst accepted upload peaks at about 130 MB
above the process's own size (`python -m bench.images`).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

MAX_BYTES = 8 * 1024 * 1024
# Megapixels by format, chosen so the worst accepted upload stays under 150 MB of memory
# (`python -m bench.images`): a 6000 × 4000 phone photo (24 MP) passes as JPEG, a 4000 ×
# 3000 PNG or WebP (screenshots, scans), and no decompression bomb. JPEG decodes at a
# reduced scale; PNG and WebP decode whole, and Pillow needs about twice that to shrink.
MAX_PIXELS = {"JPEG": 25_000_000, "PNG": 12_000_000, "WEBP": 8_000_000}
FORMATS = tuple(MAX_PIXELS)
# A long thin picture scales down by its short side only (JPEG's draft picks the smaller
# ratio): bound each side as well.
MAX_SIDE = 12_000


class PictureError(ValueError):
    """The upload is not a picture we accept; the message is for people."""


def _not_readable() -> PictureError:
    return PictureError(_("This file is not a picture we can read (JPEG, PNG or WebP)."))


def _small(image, longest: int):
    """`image` decoded and shrunk so both sides fit `longest`, never holding two full-size
    copies: JPEG decodes at 1/2, 1/4 or 1/8 scale (draft); the others are reduced by a whole
    factor first (Pillow's resize would copy an RGBA picture once more to premultiply)."""
    if image.format == "JPEG":
        image.draft("RGB", (longest, longest))
    image.load()
    info = dict(image.info)  # the EXIF orientation, for exif_transpose afterwards
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        # Keep an alpha channel only where there is one; CMYK and the rest become RGB.
        alpha = image.mode in {"P", "PA"} and "transparency" in image.info or image.mode == "PA"
        image = image.convert("RGBA" if alpha else "RGB")
    factor = min(image.width // longest, image.height // longest)
    if factor > 1:
        image = image.reduce(factor)
    image.thumbnail((longest, longest))
    image.info = info
    return image


def normalise(upload, *, box: tuple[int, int] = (1600, 1000)) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > MAX_BYTES:
        raise PictureError(_("The picture is too large (8 MB at most)."))
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            # The header alone: width and height, nothing decoded yet.
            limit = MAX_PIXELS[str(probe.format)]
            if probe.width * probe.height > limit or max(probe.size) > MAX_SIDE:
                raise PictureError(
                    _("The picture has too many pixels (%(limit)s megapixels at most).")
                    % {"limit": limit // 1_000_000}
                )
            probe.verify()
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            upright = ImageOps.exif_transpose(_small(image, max(box))).convert("RGB")
    except PictureError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _not_readable() from exc
    except Image.DecompressionBombError as exc:
        raise _not_readable() from exc
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
        delete_after_commit(replaces)
    return name


def delete_after_commit(name: str) -> None:
    """Delete a stored picture once the transaction that stopped using it commits: a
    rollback keeps the row pointing at a file that still exists."""
    from django.db import transaction

    transaction.on_commit(lambda: _delete(name))


def _delete(name: str) -> None:
    from django.core.files.storage import default_storage

    default_storage.delete(name)
