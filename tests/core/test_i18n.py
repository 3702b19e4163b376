from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from bs4 import BeautifulSoup
from django.conf import settings

from krov.core.services import to_cyrillic, to_latin

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
SHIPPED = ["ru", "uk", "sr", "sr_Latn", "en", "de"]
LANG_CODES = [code for code, _name in settings.LANGUAGES]


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANG_CODES)
def test_home_page_is_served_in_each_language(client, lang):
    response = client.get(f"/{lang}/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.html["lang"] == lang


@pytest.mark.django_db
def test_home_page_heading_is_translated(client):
    headings = {lang: client.get(f"/{lang}/").content for lang in ("en", "ru", "sr", "sr-latn")}
    h1 = {
        lang: BeautifulSoup(html, "html.parser").h1.get_text(strip=True)
        for lang, html in headings.items()
    }
    assert len(set(h1.values())) == 4
    assert h1["sr-latn"] == to_latin(h1["sr"])


@pytest.mark.django_db
def test_root_redirects_to_the_browsers_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="uk,ru;q=0.8")
    assert response.status_code == 302
    assert response["Location"] == "/uk/"


@pytest.mark.django_db
def test_unknown_language_prefix_is_404(client):
    assert client.get("/fr/").status_code == 404


@pytest.mark.django_db
def test_language_switcher_keeps_the_page(client):
    soup = BeautifulSoup(client.get("/de/accounts/login/").content, "html.parser")
    switcher = soup.find("nav", class_="language-switcher")
    links = {a["hreflang"]: a["href"] for a in switcher.find_all("a")}
    assert links == {lang: f"/{lang}/accounts/login/" for lang in LANG_CODES}
    assert switcher.find("a", attrs={"aria-current": "true"})["hreflang"] == "de"
    for href in links.values():
        assert client.get(href).status_code == 200


@pytest.mark.parametrize("locale", SHIPPED)
def test_shipped_catalogue_is_complete(locale):
    catalogue = polib.pofile(str(LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags]
    assert not missing, f"{locale} lacks translations for: {missing}"
    assert not fuzzy, f"{locale} has fuzzy entries: {fuzzy}"


@pytest.mark.parametrize("locale", SHIPPED)
def test_compiled_catalogue_matches_its_source(locale):
    po = polib.pofile(str(LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE_DIR / locale / "LC_MESSAGES" / "django.mo"))

    def key(e):
        return (e.msgctxt, e.msgid)

    compiled = {key(e): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        got = compiled.get(key(entry))
        assert got is not None, f"{locale}: {entry.msgid!r} not compiled; run make messages"
        if entry.msgid_plural:
            assert {int(k): v for k, v in got[1].items()} == {
                int(k): v for k, v in entry.msgstr_plural.items()
            }
        else:
            assert got[0] == entry.msgstr, f"{locale}: stale .mo for {entry.msgid!r}"


def test_sr_latn_catalogue_is_derived_from_sr_not_written_by_hand():
    from importlib import import_module

    command = import_module("krov.core.management.commands.sr-latn-catalogue")
    source = polib.pofile(str(LOCALE_DIR / "sr" / "LC_MESSAGES" / "django.po"))
    shipped = polib.pofile(str(LOCALE_DIR / "sr_Latn" / "LC_MESSAGES" / "django.po"))
    derived = command.latin_catalogue(source)
    assert {e.msgid: e.msgstr for e in shipped} == {e.msgid: e.msgstr for e in derived}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext's xgettext")
def test_every_marked_string_is_in_the_shipped_catalogues(tmp_path):
    """Run makemessages on a copy of the source: no msgid may be new."""
    tree = tmp_path / "krov"
    shutil.copytree(LOCALE_DIR.parent, tree, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # makemessages writes into LOCALE_PATHS: point it at the copy, never at the source.
    (tmp_path / "copy_settings.py").write_text(
        f"from tests.settings import *\nLOCALE_PATHS = [{str(tree / 'locale')!r}]\n"
    )
    repo_root = Path(__file__).resolve().parents[2]
    result = subprocess.run(  # noqa: S603
        # -P: the copy holds krov/telegram, which must not shadow the telegram package.
        [sys.executable, "-P", "-m", "django", "makemessages", "-l", "ru", "--no-location"],
        cwd=tree,
        env={
            "DJANGO_SETTINGS_MODULE": "copy_settings",
            "PYTHONPATH": f"{tmp_path}:{repo_root}",
            "PATH": "/usr/bin:/bin",
            "KROV_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(tree / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in fresh if not e.obsolete and not e.translated()]
    assert not untranslated, (
        f"strings not yet in the catalogues (run make messages): {untranslated}"
    )


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Београд", "Beograd"),
        ("Љубав и њива", "Ljubav i njiva"),
        ("Џеп, ђак, ћуп", "Džep, đak, ćup"),
    ],
)
def test_serbian_transliteration_both_ways(cyrillic, latin):
    assert to_latin(cyrillic) == latin
    assert to_cyrillic(latin) == cyrillic


def test_transliteration_leaves_placeholders_alone():
    assert to_latin("Здраво, %(name)s {count}") == "Zdravo, %(name)s {count}"
