"""The starting catalogue: skills and a few canned replies. Applied by migration 0002 and
again after every migrate (a test database flush empties tables), always idempotent."""

from __future__ import annotations

SKILLS = [
    "driving",
    "evacuation",
    "translation",
    "legal",
    "medical",
    "psychological",
    "housing",
    "documents",
    "money",
    "digital-security",
    "other",
]

# Content, not interface: a starting set coordinators edit in the admin.
CANNED = [
    (
        "uk",
        "Привітання",
        "Вітаю! Я волонтер Krov. Я прочитав(ла) ваше звернення і допоможу. "
        "Розкажіть, будь ласка, трохи більше.",
    ),
    (
        "uk",
        "Безпека",
        "Будь ласка, не пишіть тут своє повне ім'я, адресу чи номер телефону, якщо це не потрібно.",
    ),
    (
        "ru",
        "Приветствие",
        "Здравствуйте! Я волонтёр Krov. Я прочитал(а) ваше обращение и помогу. "
        "Расскажите, пожалуйста, чуть подробнее.",
    ),
    (
        "ru",
        "Безопасность",
        "Пожалуйста, не пишите здесь своё полное имя, адрес или номер телефона, если это не нужно.",
    ),
    (
        "en",
        "Greeting",
        "Hello! I am a Krov volunteer. I have read your request and will help. "
        "Please tell me a little more.",
    ),
    (
        "en",
        "Safety",
        "Please do not write your full name, address or phone number here unless it is needed.",
    ),
]


def seed(apps, schema_editor=None) -> None:
    Skill = apps.get_model("aid", "Skill")
    CannedReply = apps.get_model("aid", "CannedReply")
    for position, slug in enumerate(SKILLS):
        Skill.objects.get_or_create(slug=slug, defaults={"position": position * 10})
    for language, title, body in CANNED:
        CannedReply.objects.get_or_create(language=language, title=title, defaults={"body": body})


def seed_after_migrate(sender, **kwargs) -> None:
    from django.apps import apps

    seed(apps)
