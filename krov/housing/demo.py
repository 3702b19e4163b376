"""Demo housing: the SYNTHETIC rent dataset (labelled as such on every page that uses it)
and two dozen listings in several languages posted by demo accounts."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from krov.accounts.models import User
from krov.housing import districts, index, services, synthetic
from krov.housing.importer import plausible
from krov.housing.models import District, Listing, RentObservation

# (poster email, language, kind, district, hint, m², rooms, rent, currency, title, text)
LISTINGS = [
    ("volunteer", "ru", "flat", "vracar", "у Храма Святого Саввы", 48, 2, 850, "EUR",
     "Светлая двушка на Врачаре", "Тихий двор, рядом парк. Хозяйка говорит по-английски."),
    ("volunteer", "ru", "room", "novi-beograd", "Блок 45", 14, 1, 280, "EUR",
     "Комната в квартире с двумя соседями", "Общая кухня, интернет включён."),
    ("coordinator", "uk", "flat", "zemun", "біля набережної", 55, 2, 700, "EUR",
     "Квартира біля Дунаю", "Можна з тваринами. Власник говорить трохи українською."),
    ("coordinator", "uk", "flat", "zvezdara", "Цвијићева", 38, 1.5, 55000, "RSD",
     "Однокімнатна на Звездарі", "Після ремонту, є пральна машина."),
    ("editor", "sr-latn", "flat", "stari-grad", "Dorćol, blizu Dunavske", 62, 2.5, 1200, "EUR",
     "Dorćol, dvoiposoban stan", "Namešten, centralno grejanje, bez ljubimaca."),
    ("editor", "sr", "flat", "palilula", "Ташмајдан", 44, 2, 750, "EUR",
     "Двособан стан код Ташмајдана", "Власник говори српски и енглески."),
    ("editor", "en", "flat", "savski-venac", "near Slavija", 70, 3, 1500, "EUR",
     "Three-room flat near Slavija", "Bright, fourth floor with lift. Long-term only."),
    ("organiser", "en", "room", "vracar", "Kalenić market", 16, 1, 350, "EUR",
     "Room in a shared flat", "Two flatmates from Kyiv and Belgrade; English and Russian."),
    ("organiser", "ru", "flat", "vozdovac", "Autokomanda", 52, 2, 650, "EUR",
     "Двушка на Вождоваце", "Без мебели, можно надолго."),
    ("organiser", "de", "flat", "novi-beograd", "Block 70", 60, 2.5, 900, "EUR",
     "Wohnung in Neu-Belgrad", "Möbliert, nahe der Straßenbahn, Vermieter spricht Deutsch."),
    ("volunteer", "ru", "flat", "cukarica", "Баново брдо", 45, 2, 560, "EUR",
     "Квартира на Баново брдо", "Зелёный район, рядом Ада Циганлия."),
    ("volunteer", "uk", "flat", "rakovica", "Канарево брдо", 50, 2, 480, "EUR",
     "Двокімнатна у Раковиці", "Тихо, поруч автобус до центру."),
    ("coordinator", "sr-latn", "house", "zemun", "Gornji grad", 90, 4, 1300, "EUR",
     "Kuća sa dvorištem u Zemunu", "Za porodicu, ljubimci dozvoljeni."),
    ("coordinator", "en", "flat", "stari-grad", "Skadarlija", 35, 1, 700, "EUR",
     "Studio in Skadarlija", "Furnished, short walk to Republic Square."),
    ("editor", "ru", "flat", "savski-venac", "Сењак", 80, 3, 1800, "EUR",
     "Большая квартира на Сеняке", "Две ванные, парковка."),
    ("editor", "uk", "room", "palilula", "Карабурма", 12, 1, 230, "EUR",
     "Кімната на Карабурмі", "Для однієї людини, без тварин."),
    ("organiser", "sr", "flat", "novi-beograd", "Блок 21", 58, 2, 95000, "RSD",
     "Двособан у Блоку 21", "Поглед на реку, гаража."),
    ("organiser", "en", "flat", "zvezdara", "Vukov spomenik", 41, 1.5, 620, "EUR",
     "One-bedroom by Vukov spomenik", "Metro-style tram and bus stops nearby."),
    ("volunteer", "ru", "flat", "vracar", "Крунска", 65, 3, 1400, "EUR",
     "Трёшка на Крунской", "Высокие потолки, старый фонд."),
    ("volunteer", "en", "flat", "surcin", "near the airport", 55, 2, 420, "EUR",
     "Quiet flat in Surčin", "Car useful. Landlord speaks Serbian only."),
    ("coordinator", "uk", "flat", "vozdovac", "Бањица", 47, 2, 640, "EUR",
     "Квартира на Баниці", "Меблі, кондиціонер, балкон."),
    ("coordinator", "ru", "room", "stari-grad", "Студентский парк", 18, 1, 400, "EUR",
     "Комната в центре", "Для студента или удалёнщика."),
    ("editor", "sr-latn", "flat", "cukarica", "Žarkovo", 60, 2.5, 600, "EUR",
     "Stan u Žarkovu", "Novogradnja, lift, garaža po dogovoru."),
    ("editor", "en", "flat", "vracar", "Hram", 30, 1, 2600, "EUR",
     "Tiny studio, very central", "A rent far above the district: the fair-rent check says so."),
]  # fmt: skip
SPOKEN = {"ru": ["ru", "en"], "uk": ["uk", "en"], "en": ["en"], "de": ["de", "en"]}


def _picture(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 500), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((260, 160, 540, 420), fill=(240, 240, 235))
    draw.polygon([(230, 170), (400, 60), (570, 170)], fill=(120, 40, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def load_synthetic() -> int:
    """The synthetic observations, once; then the whole index."""
    if RentObservation.objects.filter(source=synthetic.SOURCE).exists():
        return 0
    districts = dict(District.objects.values_list("slug", "id"))
    observations = [
        RentObservation(
            observed_on=day,
            month=month,
            district_id=district_id,
            size_m2=size,
            rent=rent,
            currency=currency,
            rate=rate,
            rent_eur=rent_eur,
            per_m2=per_m2,
            source=synthetic.SOURCE,
            status=RentObservation.Status.OK
            if plausible(rent_eur, size)
            else RentObservation.Status.IMPLAUSIBLE,
        )
        for day, month, district_id, size, rent, currency, rate, rent_eur, per_m2 in synthetic.rows(
            districts, end=timezone.localdate()
        )
    ]
    RentObservation.objects.bulk_create(observations, batch_size=2000)
    return len(observations)


def load() -> list[str]:
    districts.ensure(District)
    created = load_synthetic()
    posters = {
        role: User.objects.filter(email=f"{role}@demo.krov.local").first()
        for role in ("volunteer", "coordinator", "editor", "organiser")
    }
    new = 0
    for number, row in enumerate(LISTINGS):
        role, language, kind, slug, hint, size, rooms, rent, currency, title, text = row
        poster = posters.get(role)
        if poster is None or Listing.objects.filter(poster=poster, title=title).exists():
            continue
        photos = [_picture((60 + number * 7, 120, 160 - number * 4))] if number % 4 == 0 else []
        listing = services.post_listing(
            actor=poster,
            data={
                "kind": kind,
                "title": title,
                "description": text,
                "language": language,
                "district": District.objects.get(slug=slug),
                "location_hint": hint,
                "size_m2": Decimal(size),
                "rooms": Decimal(str(rooms)),
                "rent": Decimal(rent),
                "currency": currency,
                "deposit": Decimal(rent),
                "furnished": number % 3 != 1,
                "pets": number % 5 == 2,
                "available_from": timezone.localdate() + timedelta(days=3 + number),
                "languages": SPOKEN.get(language, ["sr", "en"]),
            },
            photos=photos,
        )
        # Spread the demo listings over the last weeks.
        Listing.objects.filter(pk=listing.pk).update(
            published_at=listing.published_at - timedelta(days=number),
            expires_at=listing.expires_at - timedelta(days=number),
        )
        new += 1
    if created or new:
        index.rebuild()
    return [
        f"Housing: {created} SYNTHETIC rent observations (2021 to now, labelled as demo data), "
        f"{new} new listings; rent index at /en/housing/rents/"
    ]
