"""What changed between two versions of a text, for the people who review it: a directory
correction against the current entry, a bulletin edit against the approved text.

Words are compared (a changed comma does not mark the whole paragraph), and the result is
HTML with `<del>` and `<ins>` around what went and what came, every piece escaped."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Words and the spaces between them, both kept, so that the text reads as it was written.
_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> SafeString:
    """`after` as HTML, with what `before` had and `after` lost in `<del>` and what `after`
    added in `<ins>`."""
    old, new = _TOKENS.findall(before or ""), _TOKENS.findall(after or "")
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            pieces.append(("{}", "".join(new[new_start:new_end])))
            continue
        if old_end > old_start:
            pieces.append(("<del>{}</del>", "".join(old[old_start:old_end])))
        if new_end > new_start:
            pieces.append(("<ins>{}</ins>", "".join(new[new_start:new_end])))
    return format_html_join("", "{}", ((format_html(template, text),) for template, text in pieces))


@dataclass(frozen=True)
class Change:
    """One field of a reviewed text: its label, both values and, when they differ, the
    word diff to show."""

    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def diff(self) -> SafeString:
        return word_diff(self.before, self.after)


def changes(fields: list[tuple[object, str, str]]) -> list[Change]:
    """(label, before, after) for each field, in order."""
    return [Change(str(label or ""), before or "", after or "") for label, before, after in fields]
