"""Audio bulletins end to end: an editor attaches a recording (and only an editor), the
worker makes the files, the page plays them with the transcript below, the files are
served with Range (a phone seeks), what is not audio is refused on the form, and the
channel gets the recording as audio (sendAudio, uploaded to the fake Bot API)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from krov.bulletins import services
from krov.bulletins.models import Post, Recording
from krov.telegram.fake import FakeBotAPI
from krov.telegram.models import Outbound
from tests.bulletins.audio_files import TAGS, upload
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(editor):
    return services.create_post(
        actor=editor,
        language="sr",
        title="Ко су Руси у Београду",
        summary="Одговор на текст у штампи.",
        body="Текст одговора.",
        transcript="Добро вече, ово је Кров.",
    )


@pytest.fixture
def attach(editor, django_capture_on_commit_callbacks):
    """Attach a recording through the service; the worker (immediate in tests) runs."""

    def _attach(post, kind="mp3", **options):
        with django_capture_on_commit_callbacks(execute=True):
            services.attach_recording(post, actor=editor, upload=upload(kind, **options))
        return Recording.objects.get(post=post)

    return _attach


@pytest.fixture
def published_with_audio(draft, attach, editor, second_editor, django_capture_on_commit_callbacks):
    attach(draft)
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor)
    draft.refresh_from_db()
    return draft


def audio_url(post, kind="mp3", language="en"):
    recording = Recording.objects.get(post=post)
    name = (recording.mp3 if kind == "mp3" else recording.opus).rsplit("/", 1)[-1]
    return f"/{language}/bulletins/{post.slug}/audio/{name}"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- processing ----------------------------------------------------------------------------


def test_an_attached_recording_is_processed_into_opus_and_mp3_without_the_upload(draft, attach):
    recording = attach(draft, "m4a")
    assert recording.status == Recording.Status.READY
    assert recording.original == ""
    assert recording.opus.endswith(".opus") and recording.mp3.endswith(".mp3")
    assert recording.mp3_bytes == default_storage.size(recording.mp3)
    assert recording.opus_bytes == default_storage.size(recording.opus)
    assert abs(recording.duration_ms - 3000) <= 100
    assert abs(recording.loudness_out - (-16.0)) <= 1.0
    # Neither the upload's name nor its tags survive anywhere.
    stored = default_storage.listdir("bulletins/audio")[1]
    assert len(stored) == 2 and not any("Studio" in name for name in stored)
    for name in (recording.opus, recording.mp3):
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
        assert not any(value.encode() in data for value in TAGS.values())


def test_a_new_recording_replaces_the_old_files(draft, attach):
    first = attach(draft)
    second = attach(draft, "flac")
    assert second.mp3 != first.mp3
    assert not default_storage.exists(first.mp3) and not default_storage.exists(first.opus)
    assert default_storage.exists(second.mp3)


def test_processing_is_claimed_once(draft, attach):
    recording = attach(draft)
    assert services.process_recording(recording.pk) is False  # already done: nothing again


def test_removing_the_recording_deletes_its_files(
    draft, attach, editor, django_capture_on_commit_callbacks
):
    recording = attach(draft)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_recording(draft, actor=editor)
    assert not Recording.objects.exists()
    assert not default_storage.exists(recording.mp3)


# --- the upload form and access ------------------------------------------------------------


def test_an_editor_uploads_a_recording_on_the_bulletin_s_page(
    draft, editor, django_capture_on_commit_callbacks
):
    client = signed_in(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/bulletins/editor/{draft.slug}/recording/", {"recording": upload("wav")}
        )
    assert response.status_code == 302
    page = soup(client.get(f"/en/bulletins/editor/{draft.slug}/"))
    assert page.select_one(".recording-status").get_text() == "Ready"
    sources = [s["type"] for s in page.select(".recording-editor audio source")]
    assert sources == ["audio/ogg; codecs=opus", "audio/mpeg"]


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4 not a recording" * 50, b"\x00" * 4096],
    ids=["pdf", "zeros"],
)
def test_a_file_that_is_not_audio_is_refused_on_the_form_with_the_reason(
    draft, editor, data, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(editor)
    response = client.post(
        f"/en/bulletins/editor/{draft.slug}/recording/",
        {"recording": SimpleUploadedFile("take.mp3", data, "audio/mpeg")},
    )
    assert response.status_code == 400
    error = soup(response).select_one(".recording-editor .error")
    assert "not a recording Krov can read" in error.get_text()
    assert not Recording.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_a_recording_over_the_size_limit_is_refused(draft, editor, settings):
    settings.KROV_AUDIO_MAX_BYTES = 10_000
    response = signed_in(editor).post(
        f"/en/bulletins/editor/{draft.slug}/recording/", {"recording": upload("wav")}
    )
    assert response.status_code == 400
    assert "too large" in soup(response).select_one(".recording-editor .error").get_text()
    assert not Recording.objects.exists()


def test_an_upload_without_a_file_is_a_form_error_not_a_500(draft, editor):
    response = signed_in(editor).post(f"/en/bulletins/editor/{draft.slug}/recording/", {})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["anonymous", "member", "volunteer", "organiser"])
def test_only_editors_attach_a_recording(draft, personas, who):
    client = Client() if who == "anonymous" else signed_in(personas[who].user)
    response = client.post(
        f"/en/bulletins/editor/{draft.slug}/recording/", {"recording": upload("wav")}
    )
    assert response.status_code in {302, 403}
    if who == "anonymous":
        assert "/login" in response["Location"] or "login" in response["Location"]
    assert not Recording.objects.exists()


def test_the_service_refuses_someone_who_is_not_an_editor(draft, personas):
    with pytest.raises(services.BulletinError):
        services.attach_recording(draft, actor=personas["member"].user, upload=upload("wav"))


def test_a_draft_s_audio_is_not_public(draft, attach):
    attach(draft)
    assert Client().get(audio_url(draft)).status_code == 404


# --- the public page -----------------------------------------------------------------------


def test_the_page_has_an_html5_player_and_the_transcript_below_in_the_page_s_script(
    published_with_audio,
):
    post = published_with_audio
    cyrillic = soup(Client().get(f"/sr/bulletins/{post.slug}/"))
    player = cyrillic.select_one("article .bulletin-audio audio")
    assert player.has_attr("controls")
    assert [s["type"] for s in player.select("source")] == [
        "audio/ogg; codecs=opus",
        "audio/mpeg",
    ]
    assert not cyrillic.select("script:not([src])")  # no inline script (strict CSP)
    transcript = cyrillic.select_one("article .transcript")
    assert "Добро вече, ово је Кров." in transcript.get_text()
    # Below the player.
    sections = [s for s in cyrillic.select("article section") if s.get("class")]
    assert [s["class"][0] for s in sections] == ["bulletin-audio", "transcript"]
    latin = soup(Client().get(f"/sr-latn/bulletins/{post.slug}/"))
    assert "Dobro veče, ovo je Krov." in latin.select_one("article .transcript").get_text()


def test_the_transcript_is_plain_text_per_language(published_with_audio):
    post = published_with_audio
    response = Client().get(f"/sr-latn/bulletins/{post.slug}/transcript.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Dobro veče, ovo je Krov.\n"


def test_a_transcript_written_in_latin_is_derived_in_cyrillic(draft, editor):
    services.write(
        draft,
        actor=editor,
        language="sr-latn",
        title="Ko su Rusi u Beogradu",
        body="Tekst.",
        transcript="Džep i njiva.",
    )
    assert draft.versions.get(language="sr").transcript == "Џеп и њива."


def test_a_published_bulletin_s_transcript_edit_waits_for_a_second_editor(
    published_with_audio, editor
):
    post = published_with_audio
    version = post.versions.get(language="sr")
    services.write(
        post,
        actor=editor,
        language="sr",
        title=version.title,
        body=version.body,
        transcript="Нови текст.",
    )
    assert post.versions.get(language="sr").transcript == "Добро вече, ово је Кров."
    assert post.revisions.get(language="sr").transcript == "Нови текст."
    assert "transcript" in {c.label.lower() for c in services.edit_changes(post)["sr"]}


def test_writing_without_a_transcript_keeps_the_one_there_is(draft, editor):
    services.write(draft, actor=editor, language="sr", title="Нови наслов", body="Текст.")
    assert draft.versions.get(language="sr").transcript == "Добро вече, ово је Кров."


# --- Range -----------------------------------------------------------------------------------


def test_the_whole_file_says_it_accepts_ranges(published_with_audio):
    recording = Recording.objects.get()
    response = Client().get(audio_url(published_with_audio))
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert int(response["Content-Length"]) == recording.mp3_bytes
    with default_storage.open(recording.mp3, "rb") as handle:
        assert body_of(response) == handle.read()


@pytest.mark.parametrize("kind", ["mp3", "opus"])
def test_a_phone_seeks_with_ranges_and_gets_exactly_those_bytes(published_with_audio, kind):
    recording = Recording.objects.get()
    name = recording.mp3 if kind == "mp3" else recording.opus
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    size = len(data)
    client = Client()
    url = audio_url(published_with_audio, kind)
    cases = {
        "bytes=0-0": (0, 0),
        "bytes=0-1023": (0, 1023),
        f"bytes={size // 2}-": (size // 2, size - 1),
        f"bytes={size // 3}-{size // 3 + 4999}": (size // 3, size // 3 + 4999),
        "bytes=-500": (size - 500, size - 1),
        f"bytes={size - 10}-{size + 1000}": (size - 10, size - 1),  # clipped to the end
        f"bytes=-{size * 2}": (0, size - 1),
    }
    for header, (first, last) in cases.items():
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert int(response["Content-Length"]) == last - first + 1
        assert body_of(response) == data[first : last + 1], header
        assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size_plus}-{size_more}", "bytes=-0"])
def test_a_range_outside_the_file_is_416_with_the_size(published_with_audio, header):
    size = Recording.objects.get().mp3_bytes
    response = Client().get(
        audio_url(published_with_audio),
        HTTP_RANGE=header.format(size=size, size_plus=size + 5, size_more=size + 50),
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-10,20-30", "lines=1-2", "bytes=abc", "bytes=9-2"])
def test_ranges_krov_does_not_serve_get_the_whole_file(published_with_audio, header):
    response = Client().get(audio_url(published_with_audio), HTTP_RANGE=header)
    assert response.status_code == 200
    assert int(response["Content-Length"]) == Recording.objects.get().mp3_bytes


def test_if_range_with_another_version_gets_the_whole_file(published_with_audio):
    client = Client()
    url = audio_url(published_with_audio)
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206
    assert client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"').status_code == 200


def test_head_answers_the_headers_without_the_body(published_with_audio):
    response = Client().head(audio_url(published_with_audio), HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert response["Content-Length"] == "100"
    assert body_of(response) == b""


def test_an_unknown_audio_name_is_404(published_with_audio):
    url = f"/en/bulletins/{published_with_audio.slug}/audio/{'0' * 24}.mp3"
    assert Client().get(url).status_code == 404


# --- the channel -------------------------------------------------------------------------------


@pytest.fixture
def fake_bot(settings):
    api = FakeBotAPI().start()
    settings.TELEGRAM_BOT_TOKEN = api.token
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    yield api
    api.stop()


def test_publishing_an_audio_bulletin_posts_the_mp3_to_the_channel_with_send_audio(
    fake_bot, published_with_audio
):
    # Publication queued the row and the (immediate) worker sent it through the outbox.
    recording = Recording.objects.get()
    (row,) = Outbound.objects.filter(channel="@krov_news")
    assert row.method == "send_audio"
    assert row.status == Outbound.Status.SENT
    ((method, sent),) = fake_bot.calls
    assert method == "sendAudio"
    assert sent["chat_id"] == "@krov_news"
    assert "Ко су Руси у Београду" in sent["caption"]
    assert sent["parse_mode"] == "HTML"
    assert sent["duration"] == recording.duration_seconds
    assert sent["audio"]["size"] == recording.mp3_bytes
    with default_storage.open(recording.mp3, "rb") as handle:
        assert fake_bot.state.files[sent["audio"]["upload"]] == handle.read()
    (message,) = fake_bot.sent_to("@krov_news")
    assert message["audio"]["file_id"] == sent["audio"]["upload"]


def test_the_outbound_row_names_the_stored_mp3_not_its_bytes(
    draft, attach, editor, second_editor, settings, django_capture_on_commit_callbacks
):
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    attach(draft)
    services.submit(draft, actor=editor)
    services.approve(draft, actor=second_editor)  # on-commit work not run: the row waits
    assert services.announce_due() == 1
    (row,) = Outbound.objects.filter(channel="@krov_news")
    params = json.loads(row.params)
    assert params["audio"] == f"krov-media:{Recording.objects.get().mp3}"
    assert params["title"] == "Ко су Руси у Београду"


def test_a_bulletin_waits_for_its_recording_before_it_is_announced(
    fake_bot, draft, editor, second_editor, django_capture_on_commit_callbacks
):
    # Uploaded, not processed yet (the nudge is not run): publication does not announce.
    services.attach_recording(draft, actor=editor, upload=upload("wav"))
    services.submit(draft, actor=editor)
    services.approve(draft, actor=second_editor)
    assert services.announce_due() == 0
    recording = Recording.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.process_recording(recording.pk)
    (row,) = Outbound.objects.filter(channel="@krov_news")
    assert row.method == "send_audio"


def test_a_recording_too_large_for_telegram_is_announced_as_a_link(
    fake_bot, draft, attach, editor, second_editor, settings, django_capture_on_commit_callbacks
):
    settings.KROV_AUDIO_TELEGRAM_MAX_BYTES = 1000
    attach(draft)
    services.submit(draft, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(draft, actor=second_editor)
    (row,) = Outbound.objects.filter(channel="@krov_news")
    assert row.method == "send_message"
    ((method, sent),) = fake_bot.calls
    assert method == "sendMessage"
    assert f"/sr/bulletins/{draft.slug}/" in sent["text"]


def test_the_client_refuses_to_upload_files_outside_the_audio_folder(fake_bot):
    from krov.telegram import client as telegram_client

    default_storage.save("secret.txt", __import__("io").BytesIO(b"x"))
    with telegram_client.Client() as api, pytest.raises(telegram_client.Permanent):
        api.call("send_audio", {"chat_id": "@krov_news", "audio": "krov-media:secret.txt"})
    with telegram_client.Client() as api, pytest.raises(telegram_client.Permanent):
        api.call(
            "send_audio",
            {"chat_id": "@krov_news", "audio": "krov-media:bulletins/audio/../../secret.txt"},
        )
    assert fake_bot.calls == []


def test_a_post_is_still_a_post_without_a_recording(publish):
    post = publish()
    assert services.playable(Post.objects.get(pk=post.pk)) is None
    page = soup(Client().get(f"/en/bulletins/{post.slug}/"))
    assert page.select("audio") == []
