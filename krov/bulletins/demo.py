"""Demo bulletins: written in Russian and in Serbian, some translations missing."""

from __future__ import annotations

from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.bulletins import services
from krov.bulletins.models import Post, Tag

POSTS = [
    (
        "ru",
        "Что делает антивоенная диаспора в Белграде",
        "Волонтёры, концерты, помощь беженцам: отчёт за месяц.",
        "За месяц волонтёры ответили на **сорок** запросов о помощи, провели два концерта "
        "и собрали вещи для семей из Харькова.",
        ["диаспора", "помощь"],
        {
            "en": (
                "What the anti-war diaspora in Belgrade does",
                "Volunteers, concerts, help for refugees: the month in review.",
                "In one month volunteers answered **forty** requests for help.",
            )
        },
    ),
    (
        "sr",
        "Истина о рату на српском",
        "Зашто пишемо за српску јавност.",
        "Пишемо да бисмо разбили пропаганду: чињенице, извори, гласови оних који су отишли.",
        ["рат"],
        {},
    ),
    (
        "sr-latn",
        "Protest protiv rata u subotu",
        "Okupljanje na Trgu Republike u 15 časova.",
        "Ponesite transparente. Molimo da ne nosite zastave država koje ratuju.",
        ["protest"],
        {
            "ru": (
                "Протест против войны в субботу",
                "Сбор на площади Республики в 15 часов.",
                "Возьмите плакаты.",
            )
        },
    ),
]

# The demo tags' names in other languages (the Tags page in the newsroom edits them).
TAG_NAMES = {
    "диаспора": {"uk": "діаспора", "sr": "дијаспора", "en": "diaspora", "de": "Diaspora"},
    "помощь": {"uk": "допомога", "sr": "помоћ", "en": "help", "de": "Hilfe"},
    "рат": {"ru": "война", "uk": "війна", "en": "war", "de": "Krieg"},
    "protest": {"ru": "протест", "uk": "протест", "en": "protest", "de": "Protest"},
}


AUDIO_POST = (
    "sr",
    "Звучни билтен: недеља у дијаспори",
    "Кратак звучни преглед недеље, са транскриптом.",
    "Ово је звучни билтен: послушајте снимак или прочитајте транскрипт испод.",
    "Добро вече. Ово је Кров, недељни преглед: волонтери су одговорили на четрдесет "
    "захтева за помоћ, а у суботу је протест на Тргу републике.",
)


def load_audio(editor: User, second: User) -> list[str]:
    """One published bulletin with a recording, made here: a few seconds of synthesised
    chords (offline), processed at once as the worker would."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from krov.bulletins import audio
    from krov.bulletins.models import Recording

    if Recording.objects.filter(post__author=editor).exists():
        return []
    language, title, summary, body, transcript = AUDIO_POST
    post = services.create_post(
        actor=editor,
        language=language,
        title=title,
        summary=summary,
        body=body,
        tags=["подкаст"],
        transcript=transcript,
    )
    services.write(
        post,
        actor=editor,
        language="en",
        title="Audio bulletin: a week in the diaspora",
        summary="A short spoken review of the week, with a transcript.",
        body="This is an audio bulletin: listen to the recording or read the transcript.",
        transcript="Good evening. This is Krov, the weekly review: volunteers answered forty "
        "requests for help, and on Saturday there is a protest on Republic Square.",
    )
    wav = SimpleUploadedFile("demo.wav", audio.tone_wav(6.0), "audio/wav")
    recording = services.attach_recording(post, actor=editor, upload=wav)
    services.process_recording(recording.pk)
    services.submit(post, actor=editor)
    services.approve(post, actor=second)
    return [
        f"Demo audio bulletin: /en/bulletins/{post.slug}/ (player, transcript); podcast feed",
        "  /en/bulletins/podcast/.",
    ]


def _second_editor() -> User:
    second = User.objects.filter(email="editor2@demo.krov.local").first()
    if second is None:
        from krov.accounts.demo import DEMO_PASSWORD

        second = account_services.create_account(
            email="editor2@demo.krov.local",
            pseudonym="Drugo Pero",
            password=DEMO_PASSWORD,
            roles=["editor"],
            email_verified=True,
        )
    return second


def load() -> list[str]:
    editor = User.objects.get(email="editor@demo.krov.local")
    if Post.objects.filter(author=editor).exists():
        return [
            "Demo bulletins: already loaded (see /en/bulletins/).",
            *load_audio(editor, _second_editor()),
        ]
    second = _second_editor()
    for language, title, summary, body, tags, translations in POSTS:
        post = services.create_post(
            actor=editor, language=language, title=title, summary=summary, body=body, tags=tags
        )
        for other, (t, s, b) in translations.items():
            services.write(post, actor=editor, language=other, title=t, summary=s, body=b)
        services.submit(post, actor=editor)
        services.approve(post, actor=second)
    for tag in services.with_translations(Tag.objects.filter(name__in=TAG_NAMES)):
        services.translate_tags(tag, actor=editor, names=TAG_NAMES[tag.name])
    draft = services.create_post(
        actor=editor, language="ru", title="Черновик: интервью с волонтёром", body="Текст."
    )
    services.submit(draft, actor=editor)
    return [
        "Demo bulletins: three published (ru, sr, sr-latn; some translations missing), one in",
        "  review. Newsroom: /en/bulletins/editor/ (editor@demo.krov.local writes,",
        "  editor2@demo.krov.local approves).",
        *load_audio(editor, second),
    ]
