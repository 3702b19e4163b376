"""Demo mutual-aid data: volunteers with skills and languages, and requests in Ukrainian and
Russian in every state. Idempotent: requests use fixed submission keys."""

from __future__ import annotations

from datetime import time

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.accounts.demo import DEMO_PASSWORD
from krov.accounts.models import User
from krov.aid import services
from krov.aid.models import HelpRequest, Skill, TrustLevel

VOLUNTEERS = [
    # email, pseudonym, languages, {skill: level}, trust
    ("volunteer@demo.krov.local", "Veter", ["uk", "ru", "en"], {"driving": 3, "evacuation": 2}),
    ("iva@demo.krov.local", "Iva", ["ru", "sr", "en"], {"legal": 3, "documents": 3}),
    ("oles@demo.krov.local", "Oles", ["uk"], {"psychological": 2, "driving": 1}),
    ("mira@demo.krov.local", "Mira", ["uk", "ru"], {"medical": 3, "translation": 2}),
]

REQUESTS = [
    # key, language, skill, urgency, text, target state
    (
        "demo-1",
        "uk",
        "driving",
        2,
        "Моя мама має панічні атаки і не може вести машину. Навчіть мене водити, щоб я міг "
        "вивезти родину.",
        "new",
    ),
    (
        "demo-2",
        "ru",
        "documents",
        1,
        "Как продлить пребывание в Сербии без визы, если я въехал 80 дней назад?",
        "triaged",
    ),
    (
        "demo-3",
        "uk",
        "evacuation",
        3,
        "Потрібен безпечний маршрут з Харківщини до Польщі для двох дорослих і собаки.",
        "offered",
    ),
    (
        "demo-4",
        "uk",
        "psychological",
        1,
        "Після обстрілів не можу спати. Хочу просто з кимось поговорити українською.",
        "active",
    ),
    (
        "demo-5",
        "ru",
        "legal",
        1,
        "Меня уволили после антивоенного поста. Что я могу сделать?",
        "waiting",
    ),
    (
        "demo-6",
        "uk",
        "medical",
        2,
        "Які ліки від тиску можна купити в Белграді без рецепта?",
        "closed",
    ),
    ("demo-7", "ru", "other", 0, "Buy cheap followers now!!! http://spam.example", "spam"),
]


def _volunteer(email, pseudonym, languages, levels, coordinator):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = account_services.create_account(
            email=email,
            pseudonym=pseudonym,
            password=DEMO_PASSWORD,
            roles=[roles.VOLUNTEER],
            email_verified=True,
        )
    _second_factor(user)  # every path to a case needs one; the key is printed (demo only)
    profile = services.vouch_for(user, actor=coordinator, languages=languages)
    skills = {Skill.objects.get(slug=slug).pk: level for slug, level in levels.items()}
    services.update_profile(
        profile,
        actor=user,
        languages=languages,
        max_cases=3,
        time_zone="Europe/Belgrade",
        paused=False,
        skills=skills,
        windows=[(day, time(9), time(23)) for day in range(7)],
    )
    if profile.trust == TrustLevel.PROBATION:
        services.set_trust(profile, TrustLevel.REGULAR, actor=coordinator)
    return profile


def _second_factor(user) -> str:
    """The demo volunteer's TOTP key (made once, kept encrypted like any other)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from krov.core import crypto

    found = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if found is None:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret
    return crypto.decrypt(found.data["secret"])


def load() -> list[str]:
    coordinator = User.objects.get(email="coordinator@demo.krov.local")
    volunteers = {
        pseudonym: _volunteer(email, pseudonym, languages, levels, coordinator)
        for email, pseudonym, languages, levels in VOLUNTEERS
    }
    lines = [
        "Demo volunteers already have a second factor; add a key to an authenticator app "
        "(or run `oathtool --totp -b KEY`) to sign in as them:"
    ]
    lines += [f"  {name}: {_second_factor(p.user)}" for name, p in volunteers.items()]
    lines.append("Mutual aid demo requests (open them as the coordinator at /en/aid/triage/):")
    for key, language, skill, urgency, text, state in REQUESTS:
        submitted = services.submit_request(
            channel=HelpRequest.Channel.WEB,
            language=language,
            skill=Skill.objects.get(slug=skill),
            description=text,
            urgency=urgency,
            submission_key=key,
        )
        case = submitted.request
        if submitted.created:
            _bring_to(case, state, volunteers, coordinator)
        lines.append(f"  {case.code} {language} {state:<8} /{language}/help/c/{submitted.token}/")
    return lines


def _bring_to(case, state, volunteers, coordinator) -> None:
    if state == "new":
        return
    if state == "spam":
        services.mark_spam(case, actor=coordinator)
        return
    services.triage(case, actor=coordinator)
    if state == "triaged":
        return
    if state == "offered":
        services.offer(case, actor=coordinator, volunteer=volunteers["Veter"])
        return
    helper = {"psychological": "Oles", "legal": "Iva", "medical": "Mira"}[case.skill.slug]
    volunteer = volunteers[helper]
    services.assign(case, volunteer, actor=coordinator)
    services.post_reply(case, actor=volunteer.user, body=_first_answer(case.language))
    if state == "waiting":
        return
    services.post_requester_message(case, body=_requester_answer(case.language))
    if state == "closed":
        services.close_case(case, actor=volunteer.user, outcome=HelpRequest.Outcome.HELPED)


def _first_answer(language: str) -> str:
    return {
        "uk": "Вітаю! Я волонтер Krov і допоможу. Розкажіть трохи більше, будь ласка.",
        "ru": "Здравствуйте! Я волонтёр Krov и помогу. Расскажите чуть подробнее, пожалуйста.",
    }.get(language, "Hello! I am a Krov volunteer and will help.")


def _requester_answer(language: str) -> str:
    return {
        "uk": "Дякую! Мені вже легше, коли є з ким поговорити.",
        "ru": "Спасибо! Уже легче, когда есть с кем поговорить.",
    }.get(language, "Thank you!")
