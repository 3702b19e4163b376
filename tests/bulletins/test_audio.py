"""krov.bulletins.audio: what listeners get from an editor's upload (every accepted format):
Opus and MP3, at -16 LUFS within 1 LU (EBU R128, measured independently with FFmpeg's
ebur128 filter), without any of the upload's tags, with the duration of the sound; and a
clear refusal of what is not audio."""

from __future__ import annotations

import io

import av
import pytest

from krov.bulletins import audio
from tests.bulletins.audio_files import TAGS, encoded


def integrated_loudness(path) -> float:
    """EBU R128 integrated loudness with FFmpeg's ebur128 filter, decoded here (not through
    krov.bulletins.audio)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        source = graph.add_abuffer(template=stream)
        meter = graph.add("ebur128", "metadata=1")
        sink = graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        graph.configure()
        found = {}

        def drain():
            while True:
                try:
                    frame = graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    return
                found.update(frame.metadata)

        for frame in container.decode(stream):
            graph.push(frame)
            drain()
        graph.push(None)
        drain()
    return float(found["lavfi.r128.I"])


def every_tag(path) -> dict[str, str]:
    tags = {}
    with av.open(str(path)) as container:
        tags.update(container.metadata)
        for stream in container.streams:
            tags.update(stream.metadata)
    return tags


@pytest.fixture
def transcoded(tmp_path):
    def _transcode(kind: str, **options):
        source = tmp_path / f"upload.{kind}"
        source.write_bytes(encoded(kind, **options))
        opus, mp3 = tmp_path / "out.opus", tmp_path / "out.mp3"
        result = audio.transcode(source, opus=opus, mp3=mp3)
        return result, opus, mp3

    return _transcode


@pytest.mark.parametrize("kind", ["wav", "mp3", "m4a", "ogg", "flac"])
def test_every_accepted_format_becomes_opus_and_mp3_without_its_tags(transcoded, kind):
    _result, opus, mp3 = transcoded(kind)
    with av.open(str(opus)) as container:
        assert container.format.name == "ogg"
        assert container.streams.audio[0].codec_context.name in {"opus", "libopus"}
    with av.open(str(mp3)) as container:
        assert container.format.name == "mp3"
        assert container.streams.audio[0].codec_context.name in {"mp3", "mp3float"}
    for path in (opus, mp3):
        tags = every_tag(path)
        assert tags == {}, tags
        raw = path.read_bytes()
        for value in TAGS.values():
            assert value.encode() not in raw


@pytest.mark.parametrize("level", [0.02, 0.1, 0.5])
def test_loudness_is_normalised_to_minus_16_lufs_within_one_lu(transcoded, level):
    result, opus, mp3 = transcoded("wav", seconds=5.0, level=level)
    for path in (opus, mp3):
        assert abs(integrated_loudness(path) - (-16.0)) <= 1.0
    assert result.loudness_in is not None and result.loudness_in < -10
    assert abs(result.loudness_out - (-16.0)) <= 1.0


def test_a_loud_recording_is_turned_down_not_clipped(transcoded):
    result, opus, _mp3 = transcoded("wav", seconds=5.0, level=0.95)
    assert result.loudness_in > -16
    assert abs(integrated_loudness(opus) - (-16.0)) <= 1.0


@pytest.mark.parametrize("kind", ["wav", "mp3", "ogg", "flac"])
def test_the_duration_is_the_sound_s_length(transcoded, kind):
    result, opus, _mp3 = transcoded(kind, seconds=3.0)
    assert abs(result.duration_ms - 3000) <= 60
    with av.open(str(opus)) as container:
        assert abs(float(container.duration / av.time_base) - 3.0) <= 0.1


def test_aac_in_m4a_keeps_its_length_within_the_codec_s_padding(transcoded):
    result, _opus, _mp3 = transcoded("m4a", seconds=3.0)
    assert abs(result.duration_ms - 3000) <= 100


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not audio at all, just some words" * 100,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff" * 5000,
        b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100,
    ],
    ids=["empty", "text", "png", "id3-without-audio", "broken-wav"],
)
def test_what_is_not_audio_is_refused_with_a_clear_message(data):
    with pytest.raises(audio.AudioError) as refused:
        audio.check(io.BytesIO(data))
    assert str(refused.value) in {audio.NOT_AUDIO, audio.NO_SOUND, audio.BROKEN}


def test_a_video_container_with_a_picture_only_is_refused(tmp_path):
    from PIL import Image

    picture = tmp_path / "picture.png"
    Image.new("RGB", (16, 16)).save(picture)
    with picture.open("rb") as handle, pytest.raises(audio.AudioError):
        audio.check(handle)


def test_the_accepted_formats_pass_the_check():
    for kind in ["wav", "mp3", "m4a", "ogg", "flac"]:
        audio.check(io.BytesIO(encoded(kind, seconds=1.0)))
