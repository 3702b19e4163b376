"""The watch list's first terms: how Serbian writes about the people Krov serves.

Each is a stem with the endings of its forms, matched on Latin-normalised text, so both
scripts are covered ("Русима" is "rusima"). People, not countries: "rus" finds Rus, Rusa,
Rusi, Rusima, Ruse (accusative plural; the Bulgarian town Ruse is a known false hit), and
Ruskinja, not Rusija, ruski or rusvaj. Editors add the countries when they want them.
"""

from django.db import migrations

# Masculine nouns ending in a consonant (Rus), with the feminine in -kinja.
_FEMININE_KINJA = "kinja kinje kinji kinju kinjom kinjama"
# Nouns in -ant, whose genitive plural inserts an "a": emigrant, emigranata.
_ANT = "t ta tu tom te ti tima ata tkinja tkinje tkinji tkinju tkinjom tkinjama"
# Feminine nouns in -a (izbeglica, dijaspora) and -ija (emigracija: stem "emigracij").
_FEMININE_A = "a e i u om ama"

TERMS = [
    ("rus", "- a u om e i ima " + _FEMININE_KINJA),
    ("belorus", "- a u om e i ima " + _FEMININE_KINJA),
    ("bjelorus", "- a u om e i ima " + _FEMININE_KINJA),
    # Ukrajinac, Ukrajinca, Ukrajinci, Ukrajinaca, Ukrajincima; Ukrajinka, Ukrajinke...
    ("ukrajin", "ac ca cu cem ce ci cima aca ka ke ki ku kom kama"),
    ("emigran", _ANT),
    ("emigracij", "a e i u om"),
    ("izbeglic", _FEMININE_A),
    ("izbjeglic", _FEMININE_A),
    ("dijaspor", "a e i u om"),
    ("relokan", _ANT),
    ("relokacij", "a e i u om"),
]


def seed(apps, schema_editor):
    WatchTerm = apps.get_model("press", "WatchTerm")
    for term, endings in TERMS:
        WatchTerm.objects.get_or_create(term=term, defaults={"endings": endings})


class Migration(migrations.Migration):
    dependencies = [("press", "0001_sources_stories_terms")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
