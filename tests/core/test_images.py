"""Uploaded pictures: only JPEG, PNG and WebP; pixel bombs refused from the header."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from krov.core import images


def upload(image: Image.Image, fmt: str, **save) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return SimpleUploadedFile(f"p.{fmt.lower()}", buffer.getvalue())


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_formats_other_than_jpeg_png_webp_are_refused(fmt):
    with pytest.raises(images.PictureError, match="JPEG, PNG or WebP"):
        images.normalise(upload(Image.new("RGB", (64, 64), "red"), fmt))


def test_a_tiny_png_claiming_59_megapixels_is_refused_before_decoding():
    bomb = upload(Image.new("1", (7700, 7700)), "PNG", optimize=True)
    assert bomb.size < 20_000  # a few KB on the wire
    with pytest.raises(images.PictureError, match="too many pixels"):
        images.normalise(bomb)


@pytest.mark.parametrize(
    ("fmt", "size", "accepted"),
    [
        ("JPEG", (6000, 4000), True),
        ("PNG", (4000, 3000), True),
        ("PNG", (4100, 3000), False),
        ("WEBP", (3400, 2350), True),
        ("WEBP", (3500, 2400), False),
    ],
)
def test_pixel_limits_per_format(fmt, size, accepted):
    picture = upload(Image.new("RGB", size, "white"), fmt)
    if accepted:
        out = Image.open(io.BytesIO(images.normalise(picture, box=(1600, 1200))))
        assert out.format == "JPEG" and max(out.size) <= 1600
    else:
        with pytest.raises(images.PictureError, match="too many pixels"):
            images.normalise(picture)


def test_orientation_is_kept_after_reducing_a_large_png():
    picture = Image.new("RGB", (4000, 2000), "white")
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90° on display
    out = Image.open(
        io.BytesIO(images.normalise(upload(picture, "PNG", exif=exif), box=(1600, 1600)))
    )
    assert out.height > out.width  # turned upright
    assert not out.getexif()  # and the metadata is gone


def test_a_long_thin_picture_is_refused_by_its_side():
    with pytest.raises(images.PictureError, match="too many pixels"):
        images.normalise(upload(Image.new("RGB", (20000, 500), "white"), "JPEG"))


def test_a_cmyk_jpeg_is_accepted_and_saved_as_rgb():
    out = Image.open(
        io.BytesIO(images.normalise(upload(Image.new("CMYK", (3000, 2000), "white"), "JPEG")))
    )
    assert out.mode == "RGB"
