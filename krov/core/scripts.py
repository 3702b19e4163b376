"""Serbian scripts and slugs: the tables behind `krov.core.services.to_latin`,
`to_cyrillic`, `in_page_script` and `slug_text` (call those; this module has no Django).

Serbian Cyrillic ↔ Latin is one letter to one letter, except that Љ, Њ, Џ are written with
two Latin letters (lj, nj, dž). Two things go wrong in plain tables (cyrtranslit 1.2 among
them), and both are handled here:

- case: an all-caps word keeps both letters capital (ЉУБАВ → LJUBAV, not LjUBAV), and
  LJ, Lj, lj (NJ…, DŽ…) are each read back as one letter;
- exceptions: in some words the pair is two letters, mostly a prefix before j or ž
  (nad|živeti, in|jekcija, kon|junktura): `SPLIT_STEMS` lists them.

Latin → Cyrillic leaves alone what is not Serbian text: web and mail addresses, HTML tags
and entities, Markdown link targets and code, format placeholders, and words with letters
the Serbian Latin alphabet lacks (q, w, x, y, ä, ß…), so "Wi-Fi" or "example.org" survive.

Slugs: Russian and Ukrainian titles follow those languages' romanisation (Russian as in
most Russian web addresses, close to BGN/PCGN: щ shch, ы y, ё e, й y, ю yu, я ya, ь and ъ
dropped; Ukrainian by the official 2010 system of Ukraine's government: г h, и y, і i,
ї yi/i, є ye/ie, зг zgh), Serbian by its own Latin with đ written dj.
"""

from __future__ import annotations

import re
import unicodedata

# --- Serbian ---------------------------------------------------------------------------------

_CYR_TO_LAT = dict(zip("абвгдђежзијклмнопрстћуфхцчш", "abvgdđežzijklmnoprstćufhcčš", strict=True))
_CYR_TO_LAT.update({"љ": "lj", "њ": "nj", "џ": "dž"})
_CYR_TO_LAT.update({k.upper(): v.upper() for k, v in list(_CYR_TO_LAT.items())})
_CYR_TO_LAT.update({"Љ": "Lj", "Њ": "Nj", "Џ": "Dž"})  # title case; all caps in to_latin
_DIGRAPH_CAPS = {"Љ": "LJ", "Њ": "NJ", "Џ": "DŽ"}

_LAT_TO_CYR = {v: k for k, v in _CYR_TO_LAT.items() if len(v) == 1}
_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ"}

SERBIAN_CYRILLIC = set("абвгдђежзијклљмнњопрстћуфхцчџш")
SERBIAN_LATIN = set("abcčćdđefghijklmnoprsštuvzž")
# Cyrillic letters of Russian, Ukrainian and Belarusian that Serbian does not have.
NON_SERBIAN_CYRILLIC = set("ыэъёіїєґйщьяюў")

# Lower-case stems in which "nj", "lj" or "dž" are two letters; "|" marks where they part.
# Mostly a prefix (nad-, pod-, od-, in-, kon-, van-) before a stem in j or ž.
SPLIT_STEMS = (
    "nad|živ",
    "nad|žnje",
    "nad|žup",
    "pod|žanr",
    "pod|žup",
    "od|živ",
    "in|jekc",
    "in|jekt",
    "in|junk",
    "kon|jug",
    "kon|junk",
    "kon|jekt",
    "tan|jug",
    "van|jezi",
    "van|jugoslov",
    "van|jevrop",
)
_SPLITS = [(stem.replace("|", ""), stem.index("|")) for stem in SPLIT_STEMS]

# What Latin → Cyrillic must not touch. Order matters: the first alternative that matches wins.
_PROTECTED = re.compile(
    r"""
      (?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>()\[\]"']+   # web addresses
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                      # mail addresses
    | <[^<>]*>                                          # HTML tags
    | &[#\w]+;                                          # HTML entities
    | \]\([^)\s]*\)                                     # Markdown link targets
    | `[^`]*`                                           # Markdown code
    | %\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]           # %(name)s
    | %[-#0 +]*\d*(?:\.\d+)?[sdifr%]                    # %s %d
    | \{\{?[^{}]*\}?\}                                  # {name} {{ name }}
    | \b[\w-]+(?:\.[\w-]+)*\.(?:rs|срб|org|com|net|eu|io|ru|ua|de)\b  # bare domain names
    """,
    re.VERBOSE | re.IGNORECASE,
)
# A word: letters, perhaps joined by a hyphen or an apostrophe ("Wi-Fi" stays one word).
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _segments(text: str):
    """(is_protected, piece) pairs that together make `text`."""
    position = 0
    for found in _PROTECTED.finditer(text):
        if found.start() > position:
            yield False, text[position : found.start()]
        yield True, found.group()
        position = found.end()
    if position < len(text):
        yield False, text[position:]


def _is_upper_letter(char: str) -> bool:
    return char.isalpha() and char.isupper()


def _word_to_latin(word: str) -> str:
    out = []
    for index, char in enumerate(word):
        if char in _DIGRAPH_CAPS:
            after = word[index + 1] if index + 1 < len(word) else ""
            before = word[index - 1] if index else ""
            # ЉУБАВ, КРАЉ in capitals; Љубав as a title.
            if _is_upper_letter(after) or (not after and _is_upper_letter(before)):
                out.append(_DIGRAPH_CAPS[char])
                continue
        out.append(_CYR_TO_LAT.get(char, char))
    return "".join(out)


def to_latin(text: str) -> str:
    """Serbian Cyrillic to Latin. Latin and other letters are left as they are."""
    if not text:
        return text
    return _WORD.sub(lambda m: _word_to_latin(m.group()), text)


def _split_points(word: str) -> set[int]:
    """Indexes in `word` before which a digraph-looking pair must be read as two letters."""
    lower = word.lower()
    points = set()
    for stem, split in _SPLITS:
        start = lower.find(stem)
        while start != -1:
            points.add(start + split)
            start = lower.find(stem, start + 1)
    return points


def _word_to_cyrillic(word: str) -> str:
    if any(char.isalpha() and char.lower() not in SERBIAN_LATIN for char in word):
        # Not Serbian Latin (q, w, x, y, ä, ß, or Cyrillic already): leave it whole.
        return word
    splits = _split_points(word)
    out = []
    index = 0
    while index < len(word):
        pair = word[index : index + 2]
        letter = _DIGRAPHS.get(pair.lower()) if index + 1 not in splits else None
        if letter and len(pair) == 2:
            out.append(letter.upper() if pair[0].isupper() else letter)
            index += 2
            continue
        char = word[index]
        out.append(_LAT_TO_CYR.get(char, char))
        index += 1
    return "".join(out)


def to_cyrillic(text: str) -> str:
    """Serbian Latin to Cyrillic, digraphs read in any case, known exceptions kept apart;
    addresses, markup, placeholders and foreign words are left as they are."""
    if not text:
        return text
    return "".join(
        piece if protected else _WORD.sub(lambda m: _word_to_cyrillic(m.group()), piece)
        for protected, piece in _segments(text)
    )


# --- which texts are Serbian -----------------------------------------------------------------

SERBIAN_CODES = {"sr", "sr-latn"}
# Short English and German words that Serbian does not use: Latin text that has them is not
# Serbian, and no page shows it in Cyrillic.
# Serbian words that look English or German ("to", "on", "one", "sat", "im", "mit", "step")
# are not here.
# fmt: off
_FOREIGN_WORDS = frozenset((
    "the", "and", "of", "is", "are", "with", "for", "at", "from", "this", "that", "an", "be",
    "or", "not", "our", "your", "you", "we", "they", "it", "its", "has", "have", "will", "can",
    "all", "open", "free", "door", "floor", "mon", "tue", "thu", "fri",
    "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "den", "dem", "des", "zu", "auf",
    "bei", "von", "sie",
))
# fmt: on


def is_serbian(text: str, language: str | None = None) -> bool:
    """Whether `text` is Serbian, and so may be shown in either Serbian script.

    A stated language decides (`language`: a text row's or a listing's language code).
    Without one, the letters do: Cyrillic letters Serbian lacks (ы, э, ъ, ё, і, ї, є, ґ, й,
    щ, ь, я, ю, ў) mean Russian, Ukrainian or Belarusian; Latin words with q, w, x, y or
    common English or German words mean not Serbian. Anything else is taken as Serbian."""
    if language:
        return language.lower() in SERBIAN_CODES
    lower = text.lower()
    if any(char in NON_SERBIAN_CYRILLIC for char in lower):
        return False
    latin_words = [w for w in _WORD.findall(lower) if w.isascii() or w[0] in SERBIAN_LATIN]
    if any(word in _FOREIGN_WORDS for word in latin_words):
        return False
    return not any(
        char.isascii() and char.isalpha() and char not in SERBIAN_LATIN for char in lower
    )


def in_page_script(text: str, page_language: str | None, *, language: str | None = None) -> str:
    """`text` as a page in `page_language` shows it: Serbian text in Cyrillic on "sr" pages
    and in Latin on "sr-latn" pages; other languages' text, and every other page, unchanged."""
    if not text or page_language not in SERBIAN_CODES or not is_serbian(text, language):
        return text
    return to_cyrillic(text) if page_language == "sr" else to_latin(text)


# --- slugs -----------------------------------------------------------------------------------

# fmt: off
_RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
_UKRAINIAN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
}
# fmt: on
# Ukrainian writes these differently at the start of a word.
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UKRAINIAN_LETTERS = set("іїєґ")
_RUSSIAN_LETTERS = set("ыэъё")


def slug_language(text: str, language: str | None = None) -> str:
    """Which romanisation a slug of `text` follows: "ru", "uk" or "sr". The stated language
    decides when it is one of those; otherwise the letters (і ї є ґ Ukrainian; ы э ъ ё
    Russian; other Cyrillic Serbian)."""
    if language in {"ru", "uk"}:
        return language
    if language in SERBIAN_CODES:
        return "sr"
    lower = text.lower()
    if any(char in _UKRAINIAN_LETTERS for char in lower):
        return "uk"
    if any(char in _RUSSIAN_LETTERS for char in lower) or (
        any(char in NON_SERBIAN_CYRILLIC for char in lower)
    ):
        return "ru"
    return "sr"


def _romanise(text: str, table: dict[str, str], initial: dict[str, str]) -> str:
    out = []
    previous = ""
    for char in text:
        lower = char.lower()
        if lower in table:
            at_start = not previous.isalpha()
            latin = initial.get(lower, table[lower]) if at_start else table[lower]
            if lower == "г" and previous.lower() == "з" and table is _UKRAINIAN:
                latin = "gh"  # зг → zgh, so it is not read as ж
            out.append(latin.capitalize() if char.isupper() else latin)
        elif char in "'’ʼ" and previous.isalpha():
            continue  # the Ukrainian apostrophe is dropped, and the word goes on: Znamianka
        else:
            out.append(char)
        previous = char
    return "".join(out)


def romanise(text: str, language: str | None = None) -> str:
    """Latin letters for `text` by its language's rules (see `slug_language`); đ becomes dj."""
    rule = slug_language(text, language)
    if rule == "ru":
        text = _romanise(text, _RUSSIAN, {})
    elif rule == "uk":
        text = _romanise(text, _UKRAINIAN, _UKRAINIAN_INITIAL)
    # Serbian, and any Serbian Cyrillic left in a Russian or Ukrainian text.
    text = to_latin(text)
    return text.replace("đ", "dj").replace("Đ", "Dj")


def slug_text(text: str, language: str | None = None, *, max_length: int = 60) -> str:
    """A URL slug (ASCII letters, digits, hyphens) for `text` written in `language`."""
    ascii_text = unicodedata.normalize("NFKD", romanise(text, language))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^\w\s-]", "", ascii_text)
    slug = re.sub(r"[-\s_]+", "-", slug).strip("-_")
    return slug[:max_length].strip("-")
