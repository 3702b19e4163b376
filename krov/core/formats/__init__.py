"""Krov's date and time formats, one module per language (Django's FORMAT_MODULE_PATH).

Templates and code only ever name a format ("DATE_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT",
"SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "MONTH_DAY_FORMAT", "YEAR_MONTH_FORMAT");
what it looks like is decided here, for each language by its own grammar: the genitive month
in Russian and Ukrainian (Django's "E"), "4. decembar 2026." in Serbian, one English form, a
24-hour clock everywhere. What a module leaves out (input formats, separators) comes from
Django's own locale formats.
"""
