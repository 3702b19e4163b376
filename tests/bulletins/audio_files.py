"""Recordings for the audio tests, made here with PyAV (offline): a tone, encoded in each
accepted format, carrying the tags a studio's file can carry (title, artist, location,
device)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import av
from django.core.files.uploadedfile import SimpleUploadedFile

from krov.bulletins import audio

TAGS = {
    "title": "Secret session",
    "artist": "Studio Dorcol",
    "location": "+44.8125+020.4612/",
    "comment": "recorded on Pero's iPhone 12",
}
# (container format, codec, file suffix, sample rate)
FORMATS = {
    "mp3": ("mp3", "libmp3lame", ".mp3", 44_100),
    "m4a": ("ipod", "aac", ".m4a", 44_100),
    "ogg": ("ogg", "libopus", ".ogg", 48_000),
    "flac": ("flac", "flac", ".flac", 44_100),
}


def wav(seconds: float = 3.0, *, level: float = 0.1) -> bytes:
    return audio.tone_wav(seconds, level=level)


def encoded(kind: str, *, seconds: float = 3.0, level: float = 0.1, tags=TAGS) -> bytes:
    """A tone as `kind` ("wav", "mp3", "m4a", "ogg", "flac"), tagged with `tags`."""
    source = wav(seconds, level=level)
    if kind == "wav":
        return source
    fmt, codec, suffix, rate = FORMATS[kind]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"take{suffix}"
        with av.open(io.BytesIO(source)) as src, av.open(str(path), "w", format=fmt) as dst:
            dst.metadata.update(tags)
            stream = dst.add_stream(codec, rate=rate, layout="stereo")
            stream.metadata.update(tags)
            for frame in src.decode(src.streams.audio[0]):
                frame.pts = None
                for packet in stream.encode(frame):
                    dst.mux(packet)
            for packet in stream.encode(None):
                dst.mux(packet)
        return path.read_bytes()


def upload(kind: str = "mp3", *, name: str = "", **options) -> SimpleUploadedFile:
    data = encoded(kind, **options)
    return SimpleUploadedFile(name or f"Studio Dorcol take 3.{kind}", data, "audio/mpeg")
