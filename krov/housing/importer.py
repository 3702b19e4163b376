"""`krov import-rents FILE.csv`: rent observations from a CSV file.

Columns (header row, any order, names case-insensitive): date, district, size_m2, rent,
currency, source. Each row is checked; a bad row is rejected with its line number and the
reason, and the good rows are written in one transaction (or none, with --strict, when any
row is bad). Rent per m² outside the configured bounds is imported but flagged and left out
of the index. Each row carries a fingerprint (its content and how many times that content
came before it in the file), so importing the same file again adds nothing."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from krov.housing import index
from krov.housing.models import District, Listing, RentImport, RentObservation
from krov.housing.parsing import month_of, name_key, parse_amount, parse_date

COLUMNS = ("date", "district", "size_m2", "rent", "currency", "source")
MAX_BYTES = 200 * 1024 * 1024


class ImportRefused(ValueError):
    """The file as a whole cannot be read (encoding, header); nothing was imported."""


@dataclass
class Report:
    file_name: str
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    flagged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    months: set[date] = field(default_factory=set)
    written: bool = True

    def lines(self) -> list[str]:
        out = [
            f"{self.file_name}: {self.rows_read} rows read, {self.imported} imported "
            f"({self.flagged} flagged as implausible, not counted in the index), "
            f"{self.already_present} already present, {len(self.rejected)} rejected."
        ]
        out += [f"  line {line}: {reason}" for line, reason in self.rejected]
        if not self.written:
            out.append("Nothing was imported (--strict and some rows were rejected).")
        return out


def district_names() -> dict[str, District]:
    """Every accepted spelling of every district, by its name key."""
    names: dict[str, District] = {}
    for district in District.objects.all():
        spellings = [district.slug, district.name_latin, district.name_cyrillic]
        spellings += district.aliases.splitlines()
        for spelling in spellings:
            if name_key(spelling):
                names.setdefault(name_key(spelling), district)
    return names


def plausible(rent_eur: Decimal, size_m2: Decimal) -> bool:
    per_m2 = (rent_eur / size_m2).quantize(index.CENT)
    return settings.KROV_RENT_PER_M2_MIN <= per_m2 <= settings.KROV_RENT_PER_M2_MAX


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            f"the file is not UTF-8 text (first bad byte on line {line}); "
            "save it as UTF-8 CSV and try again"
        ) from None


def _header(reader) -> dict[str, int]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("the file is empty") from None
    positions = {name.strip().lower().replace(" ", "_"): i for i, name in enumerate(header)}
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        raise ImportRefused(
            f"missing column(s) in the header: {', '.join(missing)} "
            f"(expected: {', '.join(COLUMNS)})"
        )
    return positions


def _row(
    cells: list[str], positions: dict[str, int], districts: dict[str, District], source: str
) -> RentObservation:
    values = {}
    missing = []
    for column in COLUMNS:
        position = positions[column]
        value = cells[position].strip() if position < len(cells) else ""
        if value == "" and column != "source":
            missing.append(column)
        values[column] = value
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    observed = parse_date(values["date"])
    district = districts.get(name_key(values["district"]))
    if district is None:
        raise ValueError(f"unknown district {values['district']!r}")
    numbers = {}
    for column in ("size_m2", "rent"):
        try:
            numbers[column] = parse_amount(values[column])
        except ValueError as error:
            raise ValueError(f"{column}: {error}") from None
        if numbers[column] <= 0:
            raise ValueError(f"{column} must be greater than zero, got {values[column]!r}")
    currency = values["currency"].upper()
    if currency in ("€", "EURO"):
        currency = "EUR"
    if currency in ("DIN", "ДИН", "RSD.", "ДИН."):
        currency = "RSD"
    if currency not in Listing.Currency.values:
        raise ValueError(f"currency must be EUR or RSD, got {values['currency']!r}")
    size = numbers["size_m2"].quantize(Decimal("0.1"))
    if size <= 0 or size > 10_000:
        raise ValueError(f"size_m2 must be between 0.1 and 10000, got {values['size_m2']!r}")
    rent = numbers["rent"].quantize(index.CENT)
    rent_eur, rate = index.to_eur(rent, currency)
    if rent_eur <= 0:
        raise ValueError(f"rent must be greater than zero, got {values['rent']!r}")
    return RentObservation(
        observed_on=observed,
        month=month_of(observed),
        district=district,
        size_m2=size,
        rent=rent,
        currency=currency,
        rate=rate,
        rent_eur=rent_eur,
        per_m2=(rent_eur / size).quantize(index.CENT),
        source=(values["source"] or source)[:80],
        status=RentObservation.Status.OK
        if plausible(rent_eur, size)
        else RentObservation.Status.IMPLAUSIBLE,
    )


def import_rents(data: bytes, *, file_name: str, strict: bool = False) -> Report:
    """Read, check and (unless strict and something is wrong) write the rows of one file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    text = _decode(data)
    # The separator is whichever of , ; or tab the header line uses (Excel in Serbian or
    # Russian locales writes ";" because "," is their decimal point).
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    positions = _header(reader)
    districts = district_names()
    report = Report(file_name=file_name)
    seen: Counter[str] = Counter()
    rows: list[RentObservation] = []
    default_source = f"csv:{file_name}"[:80]
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            report.rows_read += 1
            try:
                observation = _row(cells, positions, districts, default_source)
            except ValueError as error:
                report.rejected.append((line, str(error)))
                continue
            content = "|".join(
                [
                    observation.observed_on.isoformat(),
                    str(observation.district_id),
                    str(observation.size_m2),
                    str(observation.rent),
                    observation.currency,
                    observation.source,
                ]
            )
            seen[content] += 1
            observation.fingerprint = hashlib.sha256(
                f"{content}#{seen[content]}".encode()
            ).hexdigest()
            rows.append(observation)
    except csv.Error as error:
        raise ImportRefused(f"line {reader.line_num}: the CSV cannot be read ({error})") from None
    if strict and report.rejected:
        report.written = False
        return report
    with transaction.atomic():
        present = set()
        fingerprints = [r.fingerprint for r in rows]
        for start in range(0, len(fingerprints), 500):
            present |= set(
                RentObservation.objects.filter(
                    fingerprint__in=fingerprints[start : start + 500]
                ).values_list("fingerprint", flat=True)
            )
        new = [r for r in rows if r.fingerprint not in present]
        run = RentImport.objects.create(
            file_name=file_name[:200],
            sha256=hashlib.sha256(data).hexdigest(),
            rows_read=report.rows_read,
            imported=len(new),
            already_present=len(rows) - len(new),
            flagged=sum(1 for r in new if r.status != RentObservation.Status.OK),
            rejected=len(report.rejected),
            report=[[line, reason] for line, reason in report.rejected],
        )
        for observation in new:
            observation.rent_import = run
        RentObservation.objects.bulk_create(new, batch_size=1000)
    report.imported = run.imported
    report.already_present = run.already_present
    report.flagged = run.flagged
    report.months = {r.month for r in new}
    return report
