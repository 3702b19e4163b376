"""Sound for bulletins, with PyAV (FFmpeg in its wheel, nothing else to install).

`check` refuses an upload that is not audio in one of the accepted formats (it opens the
file and decodes its first seconds); `transcode` makes what listeners get: Opus in Ogg and
MP3, loudness normalised to about -16 LUFS (EBU R128: measured with FFmpeg's `ebur128`,
then a gain, and a limiter only where the gain would clip), no tag of the upload kept (no
title, artist, studio, device or location: only the audio stream is read, and nothing is
copied to the outputs), and the duration counted from the samples written.
No I/O beyond the paths given; the callers (krov.bulletins.services) store the files.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext_noop

TARGET_LUFS = -16.0
# Peaks above this (dBTP) after the gain go through the limiter.
CEILING_DBTP = -1.0
# A quiet recording is raised by at most this much (more only raises its noise).
MAX_GAIN_DB = 24.0
RATE = 48_000
OPUS_BITRATE = 64_000
MP3_BITRATE = {1: 64_000, 2: 128_000}
# FFmpeg's demuxer names of the formats editors may upload: MP3, M4A/AAC (MP4 and raw ADTS),
# Ogg (Opus, also Vorbis), WAV, FLAC.
FORMATS = {"mp3", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "ogg", "wav", "flac"}
CODECS = {
    "mp3",
    "mp3float",
    "aac",
    "alac",
    "opus",
    "libopus",
    "vorbis",
    "flac",
    *(f"pcm_{kind}" for kind in ("s16le", "s24le", "s32le", "f32le", "f64le", "u8", "s16be")),
}
# Seconds of sound `check` decodes before accepting an upload.
CHECK_SECONDS = 5.0

# Messages for people (translated where they are shown: gettext_noop marks them).
NOT_AUDIO = gettext_noop(
    "This file is not a recording Krov can read. Please upload MP3, M4A (AAC), Ogg (Opus), "
    "WAV or FLAC."
)
NO_SOUND = gettext_noop("This file holds no sound.")
TOO_LONG = gettext_noop("This recording is longer than Krov accepts (four hours).")
BROKEN = gettext_noop("The recording could not be read to its end: the file is damaged.")
MAX_SECONDS = 4 * 3600


class AudioError(Exception):
    """The file is not a recording Krov takes; `str()` is a message id for people."""


@dataclass(frozen=True)
class Result:
    duration_ms: int
    channels: int
    loudness_in: float | None
    loudness_out: float | None


def _open(source: str | Path | IO[bytes]) -> Any:
    import av

    try:
        container = av.open(source if not isinstance(source, Path) else str(source), "r")
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        raise AudioError(NOT_AUDIO) from None
    if container.format.name not in FORMATS or not container.streams.audio:
        container.close()
        raise AudioError(NOT_AUDIO)
    stream = container.streams.audio[0]
    if stream.codec_context.name not in CODECS:
        container.close()
        raise AudioError(NOT_AUDIO)
    return container


def _frames(container: Any, *, limit_seconds: float | None = None) -> Iterator[Any]:
    import av

    stream = container.streams.audio[0]
    seconds = 0.0
    try:
        for frame in container.decode(stream):
            yield frame
            seconds += frame.samples / (frame.sample_rate or RATE)
            if limit_seconds is not None and seconds >= limit_seconds:
                return
            if seconds > MAX_SECONDS:
                raise AudioError(TOO_LONG)
    except av.FFmpegError:
        raise AudioError(BROKEN if seconds else NOT_AUDIO) from None


def check(source: str | Path | IO[bytes]) -> None:
    """Refuse (AudioError) what is not audio in an accepted format, or does not decode."""
    container = _open(source)
    try:
        samples = sum(frame.samples for frame in _frames(container, limit_seconds=CHECK_SECONDS))
    finally:
        container.close()
    if not samples:
        raise AudioError(NO_SOUND)


class _Chain:
    """An FFmpeg filter chain from the upload's stream to a sink, fed frame by frame."""

    def __init__(self, stream: Any, filters: list[tuple[str, str]]):
        import av.filter

        self.graph = av.filter.Graph()
        node = self.graph.add_abuffer(template=stream)
        for name, args in filters:
            following = self.graph.add(name, args)
            node.link_to(following)
            node = following
        sink = self.graph.add("abuffersink")
        node.link_to(sink)
        self.graph.configure()

    def push(self, frame: Any) -> Iterator[Any]:
        import av

        self.graph.push(frame)
        while True:
            try:
                yield self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return


def _measure(frames: Iterator[Any], stream: Any) -> tuple[float | None, float]:
    """(integrated loudness in LUFS or None for silence, true peak in dBTP) of `frames`."""
    chain = _Chain(stream, [("ebur128", "metadata=1:peak=true")])
    last: dict[str, str] = {}
    for frame in frames:
        for out in chain.push(frame):
            if out.metadata:
                last = dict(out.metadata)
    for out in chain.push(None):
        if out.metadata:
            last = dict(out.metadata)
    integrated = _number(last.get("lavfi.r128.I"))
    peak = _number(last.get("lavfi.r128.true_peak"))
    peak_db = 20 * math.log10(peak) if peak and peak > 0 else -math.inf
    if integrated is None or integrated <= -70.0:  # below the absolute gate: silence
        return None, peak_db
    return integrated, peak_db


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def measure(path: str | Path) -> float | None:
    """The integrated loudness (LUFS) of a recording, or None for silence."""
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        return _measure(_frames(container), stream)[0]
    finally:
        container.close()


def transcode(source: str | Path, *, opus: str | Path, mp3: str | Path) -> Result:
    """Write `opus` (Ogg/Opus) and `mp3` from `source`, normalised and without tags."""
    import av

    container = _open(source)
    try:
        stream = container.streams.audio[0]
        loudness_in, peak_db = _measure(_frames(container), stream)
    finally:
        container.close()
    gain = 0.0 if loudness_in is None else max(-40.0, min(MAX_GAIN_DB, TARGET_LUFS - loudness_in))

    container = _open(source)
    try:
        stream = container.streams.audio[0]
        channels = 1 if stream.codec_context.channels == 1 else 2
        layout = "mono" if channels == 1 else "stereo"
        filters = [("volume", f"{gain:.2f}dB")]
        if peak_db + gain > CEILING_DBTP:
            limit = 10 ** (CEILING_DBTP / 20)
            filters.append(("alimiter", f"limit={limit:.4f}:level=0:attack=5:release=50"))
        filters += [
            ("aresample", str(RATE)),
            ("aformat", f"sample_fmts=fltp:sample_rates={RATE}:channel_layouts={layout}"),
        ]
        chain = _Chain(stream, filters)
        # fflags=bitexact: no library version in the files either; MP3: no ID3 tag, no
        # Xing/LAME frame (constant bit rate: players need none).
        with (
            av.open(str(opus), "w", format="ogg", options={"fflags": "+bitexact"}) as out_opus,
            av.open(
                str(mp3),
                "w",
                format="mp3",
                options={
                    "fflags": "+bitexact",
                    "id3v2_version": "0",
                    "write_id3v1": "0",
                    "write_xing": "0",
                },
            ) as out_mp3,
        ):
            opus_stream = out_opus.add_stream("libopus", rate=RATE, layout=layout)
            opus_stream.bit_rate = OPUS_BITRATE
            mp3_stream = out_mp3.add_stream("libmp3lame", rate=RATE, layout=layout)
            mp3_stream.bit_rate = MP3_BITRATE[channels]
            samples = 0

            def write(frame: Any) -> None:
                for packet in opus_stream.encode(frame):
                    out_opus.mux(packet)
                for packet in mp3_stream.encode(frame):
                    out_mp3.mux(packet)

            pts = 0
            for frame in _frames(container):
                for out in chain.push(frame):
                    out.pts, pts = pts, pts + out.samples
                    samples += out.samples
                    write(out)
            for out in chain.push(None):
                out.pts, pts = pts, pts + out.samples
                samples += out.samples
                write(out)
            write(None)
    except av.FFmpegError:
        raise AudioError(BROKEN) from None
    finally:
        container.close()
    if not samples:
        raise AudioError(NO_SOUND)
    return Result(
        duration_ms=round(samples * 1000 / RATE),
        channels=channels,
        loudness_in=loudness_in,
        loudness_out=measure(opus),
    )


def tags(path: str | Path) -> dict[str, str]:
    """Every metadata tag of a file: the container's and each stream's (for tests and the
    admin's curiosity)."""
    import av

    found: dict[str, str] = {}
    with av.open(str(path)) as container:
        found.update(container.metadata)
        for stream in container.streams:
            found.update(stream.metadata)
    return found


def tone_wav(seconds: float = 4.0, *, rate: int = 44_100, level: float = 0.1) -> bytes:
    """A short stereo WAV of a few chords (synthesised here, offline): the demo's recording."""
    chords = [(261.63, 329.63, 392.0), (220.0, 261.63, 329.63), (174.61, 220.0, 261.63)]
    total = int(seconds * rate)
    per_chord = max(1, total // len(chords))
    out = bytearray()
    for index in range(total):
        freqs = chords[min(index // per_chord, len(chords) - 1)]
        t = index / rate
        fade = min(1.0, t * 20, (total - index) / rate * 20)  # no click at the ends
        left = sum(math.sin(2 * math.pi * f * t) for f in freqs) / len(freqs)
        right = sum(math.sin(2 * math.pi * f * 1.002 * t) for f in freqs) / len(freqs)
        out += struct.pack(
            "<hh", int(left * level * fade * 32767), int(right * level * fade * 32767)
        )
    buffer = BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(bytes(out))
    return buffer.getvalue()
