"""`krov import-rents`: the report line by line, encodings, spellings, decimals, flagged
rows, idempotent re-import, all-or-nothing; and the parsers under hypothesis."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from krov.housing.importer import ImportRefused, import_rents
from krov.housing.models import District, RentImport, RentIndexCell, RentObservation
from krov.housing.parsing import name_key, parse_amount, parse_date
from tests.helpers import signed_in

GOOD_AND_BAD = """date,district,size_m2,rent,currency,source
2024-03-15,Vračar,50,800,EUR,agency A
2024-03-16,Врачар,"48,5",750,EUR,agency A
2024-03-17,vracar,52.0,"93 600",RSD,
2024-03-18,Novi Beograd,60,,EUR,agency B
2024-03-19,Novi Beograd,sixty,900,EUR,agency B
2024-03-20,Novi Beograd,60,-900,EUR,agency B
2024-03-21,Atlantis,60,900,EUR,agency B
2024-13-01,Zemun,60,900,EUR,agency B
2024-03-22,Zemun,40,9000,EUR,agency C
2024-03-23,Zemun,40,0,EUR,agency C
2024-03-24,Zemun,40,700,USD,agency C
2024-03-25,Zemun,40
"""


def run(text: str, *, name: str = "rents.csv", bom: bool = False, strict: bool = False):
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    return import_rents(data, file_name=name, strict=strict)


@pytest.mark.django_db
def test_the_report_names_every_rejected_line_and_why():
    report = run(GOOD_AND_BAD)
    assert report.rows_read == 12
    assert report.imported == 4  # three in Vračar, one implausible in Zemun
    assert report.flagged == 1
    assert report.rejected == [
        (5, "missing rent"),
        (6, "size_m2: 'sixty' is not a number"),
        (7, "rent must be greater than zero, got '-900'"),
        (8, "unknown district 'Atlantis'"),
        (9, "'2024-13-01' is not a date that exists"),
        (11, "rent must be greater than zero, got '0'"),
        (12, "currency must be EUR or RSD, got 'USD'"),
        (13, "missing rent, currency"),
    ]
    lines = report.lines()
    assert lines[0] == (
        "rents.csv: 12 rows read, 4 imported (1 flagged as implausible, not counted in the "
        "index), 0 already present, 8 rejected."
    )
    assert lines[1] == "  line 5: missing rent"
    assert len(lines) == 9


@pytest.mark.django_db
def test_both_scripts_spellings_and_decimal_commas_are_understood():
    run(GOOD_AND_BAD)
    vracar = RentObservation.objects.filter(district__slug="vracar").order_by("observed_on")
    assert [o.size_m2 for o in vracar] == [Decimal("50.0"), Decimal("48.5"), Decimal("52.0")]
    rsd = vracar[2]
    assert (rsd.currency, rsd.rent, rsd.rate) == ("RSD", Decimal("93600.00"), Decimal("117.2"))
    assert rsd.rent_eur == Decimal("798.63")
    assert rsd.source == "csv:rents.csv"  # an empty source names the file
    assert {o.month for o in vracar} == {date(2024, 3, 1)}


@pytest.mark.django_db
def test_implausible_rows_are_kept_flagged_and_left_out_of_the_index():
    report = run(GOOD_AND_BAD)
    from krov.housing import index

    index.recompute(report.months)
    flagged = RentObservation.objects.get(district__slug="zemun")
    assert flagged.status == RentObservation.Status.IMPLAUSIBLE  # 9000 EUR for 40 m²
    zemun = RentIndexCell.objects.get(area="zemun", month=date(2024, 3, 1))
    assert (zemun.count, zemun.flagged, zemun.suppressed) == (0, 1, True)
    assert zemun.median_rent is None


@pytest.mark.django_db
def test_importing_the_same_file_again_adds_nothing():
    first = run(GOOD_AND_BAD)
    second = run(GOOD_AND_BAD)
    assert (first.imported, second.imported, second.already_present) == (4, 0, 4)
    assert RentObservation.objects.count() == 4
    assert RentImport.objects.count() == 2


@pytest.mark.django_db
def test_identical_rows_in_one_file_all_count_but_only_once_across_imports():
    text = "date,district,size_m2,rent,currency,source\n" + "2024-01-10,Zemun,40,500,EUR,x\n" * 3
    assert run(text).imported == 3
    assert run(text).imported == 0
    assert run(text + "2024-01-10,Zemun,40,500,EUR,x\n").imported == 1


@pytest.mark.django_db
def test_a_byte_order_mark_and_semicolons_are_accepted():
    text = "date;district;size_m2;rent;currency;source\n2024-02-01;Savski venac;45,5;650,50;EUR;s\n"
    report = run(text, bom=True)
    assert (report.imported, report.rejected) == (1, [])
    assert RentObservation.objects.get().rent == Decimal("650.50")


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused_whole():
    data = "date,district,size_m2,rent,currency,source\n2024-02-01,Vračar,45,650,EUR,s\n"
    with pytest.raises(ImportRefused, match="not UTF-8 text .*line 2"):
        import_rents(data.encode("cp1250"), file_name="x.csv")
    assert RentObservation.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_header_column_is_refused_whole():
    with pytest.raises(ImportRefused, match="missing column\\(s\\) in the header: currency"):
        run("date,district,size_m2,rent,source\n2024-02-01,Vračar,45,650,s\n")
    with pytest.raises(ImportRefused, match="the file is empty"):
        run("")


@pytest.mark.django_db
def test_strict_mode_imports_nothing_when_a_row_is_bad():
    report = run(GOOD_AND_BAD, strict=True)
    assert report.written is False
    assert RentObservation.objects.count() == 0
    assert report.lines()[-1].startswith("Nothing was imported")


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_writing_leaves_nothing_behind(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(RentObservation.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        run(GOOD_AND_BAD)
    assert RentObservation.objects.count() == 0
    assert RentImport.objects.count() == 0


@pytest.mark.django_db
def test_the_command_prints_the_report_and_updates_the_index(tmp_path):
    path = tmp_path / "survey.csv"
    rows = "".join(
        f"2024-05-{day:02d},Vračar,50,{600 + day * 10},EUR,survey\n" for day in range(1, 8)
    )
    path.write_text(
        "date,district,size_m2,rent,currency,source\n" + rows + "2024-05-09,Mars,1,1,EUR,x\n"
    )
    out = io.StringIO()
    call_command("import-rents", str(path), stdout=out)
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("survey.csv: 8 rows read, 7 imported")
    assert printed[1] == "  line 9: unknown district 'Mars'"
    assert printed[2].startswith("Rent index recomputed for 1 month(s)")
    cell = RentIndexCell.objects.get(area="vracar", month=date(2024, 5, 1))
    assert (cell.count, cell.median_rent) == (7, Decimal("640.00"))


@pytest.mark.django_db
def test_the_command_explains_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import-rents", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("when,where\n")
    with pytest.raises(CommandError, match="missing column.*nothing was imported"):
        call_command("import-rents", str(bad))


# --- parsers -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_district_is_found_by_either_script_in_any_case():
    from krov.housing.importer import district_names

    names = district_names()
    for district in District.objects.all():
        for spelling in (district.name_latin, district.name_cyrillic):
            for variant in (spelling, spelling.upper(), f"  {spelling.lower()} "):
                assert names[name_key(variant)] == district
    assert names[name_key("New Belgrade")].slug == "novi-beograd"
    assert names[name_key("Новый Белград")].slug == "novi-beograd"
    assert names[name_key("Vracar")].slug == "vracar"
    assert names[name_key("Savski Venac")].slug == "savski-venac"


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999"), places=2))
def test_amounts_read_back_whatever_the_decimal_mark(value):
    plain = f"{value:.2f}"
    assert parse_amount(plain) == value
    assert parse_amount(plain.replace(".", ",")) == value
    whole, cents = plain.split(".")
    grouped = f"{int(whole):,}".replace(",", ".") + "," + cents
    assert parse_amount(grouped) == value
    assert parse_amount(f"{int(whole):,}.{cents}") == value


@given(st.text(max_size=20))
def test_amount_parser_answers_a_number_or_a_clear_error(text):
    try:
        value = parse_amount(text)
    except ValueError as error:
        assert "is not a number" in str(error)
    else:
        assert value.is_finite()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 1, 1)))
def test_dates_in_every_accepted_form(day):
    today = date(2026, 6, 1)
    assert parse_date(day.isoformat(), today=today) == day
    assert parse_date(f"{day.day}.{day.month}.{day.year}.", today=today) == day
    assert parse_date(f"{day:%d.%m.%Y}", today=today) == day
    assert parse_date(f"{day:%Y-%m}", today=today) == day.replace(day=1)


@given(st.text(max_size=16))
def test_date_parser_answers_a_date_or_a_clear_error(text):
    try:
        parse_date(text, today=date(2026, 6, 1))
    except ValueError as error:
        assert "date" in str(error) or "future" in str(error) or "2000" in str(error)


def test_future_and_ancient_dates_are_refused():
    with pytest.raises(ValueError, match="in the future"):
        parse_date("2026-07-01", today=date(2026, 6, 1))
    with pytest.raises(ValueError, match="before the year 2000"):
        parse_date("1999-12-31", today=date(2026, 6, 1))


class ArbitraryFiles(HypothesisTestCase):
    """Whatever bytes arrive, the import answers with a report or a refusal, and every row
    it read is accounted for."""

    @settings(max_examples=60, deadline=None)
    @given(
        body=st.lists(
            st.lists(
                st.one_of(
                    st.sampled_from(["2024-03-01", "Vračar", "Земун", "50", "48,5", "EUR", "RSD"]),
                    st.text(max_size=12),
                ),
                max_size=7,
            ),
            max_size=12,
        ),
        raw=st.binary(max_size=60),
    )
    def test_any_file_gets_a_report_or_a_refusal(self, body, raw):
        lines = ["date,district,size_m2,rent,currency,source"]
        lines += [",".join(cell.replace(",", " ").replace('"', "") for cell in row) for row in body]
        for data in ("\n".join(lines).encode(), raw):
            try:
                report = import_rents(data, file_name="h.csv")
            except ImportRefused as error:
                assert str(error)
                continue
            written = RentObservation.objects.filter(rent_import__file_name="h.csv")
            assert report.rows_read == report.imported + report.already_present + len(
                report.rejected
            )
            assert all(isinstance(line, int) and reason for line, reason in report.rejected)
            assert written.count() >= report.imported


# --- the web form ------------------------------------------------------------------------


def _upload(text: str | bytes, name: str = "survey.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.django_db
def test_a_moderator_imports_through_the_web_and_sees_the_report(
    personas, django_capture_on_commit_callbacks
):
    from bs4 import BeautifulSoup
    from django.utils import translation

    client = signed_in(personas["organiser"].user)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/housing/rents/import/", {"file": _upload(GOOD_AND_BAD)})
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert "12 rows read, 4 imported (1 flagged" in page.select_one("[role=status]").get_text()
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in page.select("section tbody tr")]
    assert rows[0] == ["5", "missing rent"] and rows[-1] == ["13", "missing rent, currency"]
    # The worker recomputed the month of the file.
    assert RentIndexCell.objects.filter(area="vracar", month=date(2024, 3, 1)).exists()
    assert "survey.csv" in page.select("table")[-1].get_text()


@pytest.mark.django_db
def test_the_web_import_refuses_bad_files_and_honours_strict(personas):
    from django.utils import translation

    client = signed_in(personas["organiser"].user)
    with translation.override("en"):
        latin1 = client.post(
            "/en/housing/rents/import/", {"file": _upload("date;Vračar".encode("cp1250"))}
        )
        strict = client.post(
            "/en/housing/rents/import/", {"file": _upload(GOOD_AND_BAD), "strict": "on"}
        )
    assert latin1.status_code == 400 and "not UTF-8" in latin1.content.decode()
    assert strict.status_code == 400
    assert "Nothing was imported because some rows were rejected." in strict.content.decode()
    assert not RentObservation.objects.exists()


@pytest.mark.django_db
def test_only_moderators_reach_the_web_import(personas):
    from django.test import Client

    for role in ("member", "volunteer", "editor", "coordinator"):
        assert signed_in(personas[role].user).get("/en/housing/rents/import/").status_code == 403
    assert Client().get("/en/housing/rents/import/").status_code == 302
    assert signed_in(personas["organiser"].user).get("/en/housing/rents/import/").status_code == 200
