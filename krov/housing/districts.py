"""Belgrade's seventeen municipalities, in both scripts, with spellings seen in the wild.
Seeded by a data migration; `ensure(District)` also restores them after a test flush."""

from __future__ import annotations

BELGRADE = [
    ("stari-grad", "Stari grad", "Стари град", "Old Town\nСтарый город\nСтаре місто\nAltstadt"),
    ("vracar", "Vračar", "Врачар", "Vrachar"),
    ("savski-venac", "Savski venac", "Савски венац", "Савский венац\nSavski vijenac"),
    (
        "novi-beograd",
        "Novi Beograd",
        "Нови Београд",
        "New Belgrade\nNeu-Belgrad\nNovi Bgd\nNBG\nНовый Белград\nНовий Белград",
    ),
    ("zemun", "Zemun", "Земун", ""),
    ("vozdovac", "Voždovac", "Вождовац", "Vozhdovac"),
    ("zvezdara", "Zvezdara", "Звездара", ""),
    ("palilula", "Palilula", "Палилула", ""),
    ("cukarica", "Čukarica", "Чукарица", "Chukarica\nTchoukaritsa"),
    ("rakovica", "Rakovica", "Раковица", ""),
    ("surcin", "Surčin", "Сурчин", "Surchin"),
    ("grocka", "Grocka", "Гроцка", "Grotska"),
    ("barajevo", "Barajevo", "Барајево", "Бараево"),
    ("lazarevac", "Lazarevac", "Лазаревац", ""),
    ("mladenovac", "Mladenovac", "Младеновац", ""),
    ("obrenovac", "Obrenovac", "Обреновац", ""),
    ("sopot", "Sopot", "Сопот", ""),
]


def ensure(district_model) -> int:
    """Create the municipalities that are missing (works with the real or the historical
    model); returns how many were created."""
    created = 0
    for position, (slug, latin, cyrillic, aliases) in enumerate(BELGRADE):
        _district, new = district_model.objects.get_or_create(
            slug=slug,
            defaults={
                "name_latin": latin,
                "name_cyrillic": cyrillic,
                "aliases": aliases,
                "city": "Beograd",
                "position": position,
            },
        )
        created += new
    return created
