"""Demo bulletins: written in Russian and in Serbian, some translations missing."""

from __future__ import annotations

from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.bulletins import services
from krov.bulletins.models import Post

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


def load() -> list[str]:
    editor = User.objects.get(email="editor@demo.krov.local")
    if Post.objects.filter(author=editor).exists():
        return ["Demo bulletins: already loaded (see /en/bulletins/)."]
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
    for language, title, summary, body, tags, translations in POSTS:
        post = services.create_post(
            actor=editor, language=language, title=title, summary=summary, body=body, tags=tags
        )
        for other, (t, s, b) in translations.items():
            services.write(post, actor=editor, language=other, title=t, summary=s, body=b)
        services.submit(post, actor=editor)
        services.approve(post, actor=second)
    draft = services.create_post(
        actor=editor, language="ru", title="Черновик: интервью с волонтёром", body="Текст."
    )
    services.submit(draft, actor=editor)
    return [
        "Demo bulletins: three published (ru, sr, sr-latn; some translations missing), one in",
        "  review. Newsroom: /en/bulletins/editor/ (editor@demo.krov.local writes,",
        "  editor2@demo.krov.local approves).",
    ]
