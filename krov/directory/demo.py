"""Demo directory: organisations the background report mentions, and three guides, one of
them past its verification date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from krov.accounts.models import User
from krov.directory import services
from krov.directory.models import Organisation

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "Pravna pomoć za izbeglice",
        "language": "sr-latn",
        "kind": "ngo",
        "description": "Besplatni pravni saveti za boravak i rad, na ruskom i srpskom.",
        "areas": ["legal", "documents"],
        "languages": ["ru", "sr"],
        "city": "Beograd",
        "website": "https://example.org/pravna-pomoc",
        "telegram": "@pravna_pomoc",
    },
    {
        "name": "Kvaka 22",
        "language": "sr-latn",
        "kind": "centre",
        "description": "Centar u kraju: otvoreni mikrofon, predavanja, kursevi srpskog.",
        "areas": ["culture", "language"],
        "languages": ["ru", "uk", "sr", "en"],
        "city": "Beograd",
        "address": "Kraljice Natalije 11",
        "opening_hours": "Uto–ned 12–22",
    },
    {
        "name": "Антивоенная инициатива",
        "language": "ru",
        "kind": "initiative",
        "description": "Протесты, письма, помощь политзаключённым.",
        "areas": ["protest", "humanitarian"],
        "languages": ["ru", "uk", "be"],
        "city": "Beograd",
        "online": True,
        "email": "info@example.org",
    },
]


def load() -> list[str]:
    reviewer = User.objects.get(email="organiser@demo.krov.local")
    if Organisation.objects.exists():
        return ["Demo directory: already loaded (see /en/directory/)."]
    orgs = {}
    member = User.objects.get(email="member@demo.krov.local")
    for data in ORGANISATIONS:
        proposal = services.propose(actor=member, data=data)
        orgs[data["name"]] = services.approve(proposal, actor=reviewer)
    services.verify_organisation(orgs["Kvaka 22"], actor=reviewer)
    today = timezone.localdate()
    services.save_guide(
        None,
        actor=reviewer,
        language="ru",
        topic="arriving",
        title="Безвизовое пребывание в Сербии",
        body="## Сколько можно оставаться\n\n30 дней без визы для граждан РФ.\n\n"
        "## Как продлить\n\nПодать на временное пребывание (боравак).",
        steps="Проверить дату въезда\nЗарегистрировать адрес (бела картон)\nПодать документы",
        sources="https://www.mup.gov.rs/",
        verify_by=today - timedelta(days=10),  # stale on purpose: readers see a warning
        organisations=[orgs["Pravna pomoć za izbeglice"]],
    )
    services.save_guide(
        None,
        actor=reviewer,
        language="sr-latn",
        topic="banking",
        title="Otvaranje računa u banci",
        body="## Šta treba\n\nPasoš, boravak, adresa.\n\n## Gde\n\nVeće banke u centru.",
        steps="Zakazati termin\nPoneti pasoš i dozvolu boravka",
        verify_by=today + timedelta(days=120),
    )
    services.save_guide(
        None,
        actor=reviewer,
        language="en",
        topic="work",
        title="Registering a company (preduzetnik)",
        body="## Steps\n\nRegister with the APR; choose a flat-rate tax if eligible.",
        sources="https://www.apr.gov.rs/",
        verify_by=today + timedelta(days=60),
        organisations=[orgs["Pravna pomoć za izbeglice"]],
    )
    return [
        "Demo directory: 3 organisations, 3 guides (one past its check date). Review queue:",
        "  /en/directory/review/ (organiser@demo.krov.local).",
    ]
