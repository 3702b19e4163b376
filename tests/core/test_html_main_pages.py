"""A guard on the HTML of the main pages against the error classes the Nu HTML checker found:
`<time datetime>` with microseconds, `maxlength` on a `<select>`, broken nesting (an end
tag closing the wrong element, a block inside a paragraph, a form inside a form, a link
inside a link...), ARIA and label references to ids that are not on the page, duplicate ids,
and two landmarks of one kind with the same name (two "Site" navigations: a screen reader's
landmark list cannot tell them apart).

The pages are those axe-core walks in Chromium (tests/main_pages.py), plus sign-up and
sign-in, where broken nesting was seen, and the aid desk's pages with scrolling tables."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from krov.accounts import roles
from tests.helpers import signed_in, soup
from tests.main_pages import LANGUAGES, Page, load_content, organisers_event, public_pages
from tests.main_pages import signed_in_pages as staff_pages

pytestmark = pytest.mark.django_db

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
# Elements whose end tag HTML lets an author leave out.
OPTIONAL_END = {
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "rt", "rp",
}  # fmt: skip
# What a <p> cannot hold: a browser closes the paragraph before any of these.
NOT_IN_P = {
    "address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "ul",
}  # fmt: skip
INTERACTIVE = {"a", "button", "details", "label", "select", "textarea", "iframe", "embed"}
PARENTS = {
    "li": {"ul", "ol", "menu"},
    "dt": {"dl", "div"},
    "dd": {"dl", "div"},
    "tr": {"table", "thead", "tbody", "tfoot"},
    "td": {"tr"},
    "th": {"tr"},
    "option": {"select", "optgroup", "datalist"},
    "summary": {"details"},
}
# A valid HTML date, time or global date and time (fractions of a second: at most three).
TIME_VALUE = re.compile(
    r"^\d{4}-\d{2}(-\d{2})?$"
    r"|^(\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$"
    r"|^P.+$"  # a duration
)
LANDMARK_ROLES = {
    "banner", "complementary", "contentinfo", "form", "main", "navigation", "region", "search",
}  # fmt: skip
# A <header>/<footer> inside these is not the page's banner/contentinfo.
SECTIONING = {"article", "aside", "main", "nav", "section"}
ID_REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-owns", "for")


class NestingChecker(HTMLParser):
    """End tags that close something other than the element that is open, as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in VOID:
            return
        if tag in {"li", "dt", "dd", "tr", "td", "th", "option", "p"}:
            # An optional end tag left out: the same element starting again closes it.
            siblings = {"dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "td": {"td", "th"}}
            same = siblings.get(tag, {tag})
            if self.stack and self.stack[-1][0] in same:
                self.stack.pop()
        self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs) -> None:
        pass  # <br/>, <path/>: nothing stays open

    def handle_endtag(self, tag) -> None:
        if tag in VOID:
            self.errors.append(f"line {self.getpos()[0]}: end tag </{tag}> of a void element")
            return
        while self.stack and self.stack[-1][0] != tag and self.stack[-1][0] in OPTIONAL_END:
            self.stack.pop()
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
            return
        open_tag = self.stack[-1] if self.stack else ("nothing", 0)
        self.errors.append(
            f"line {self.getpos()[0]}: </{tag}> while <{open_tag[0]}> (line {open_tag[1]}) is open"
        )

    def close(self) -> None:
        super().close()
        left = [t for t in self.stack if t[0] not in OPTIONAL_END | {"html", "head", "body"}]
        self.errors += [f"line {line}: <{tag}> never closed" for tag, line in left]


def accessible_name(element, page) -> str:
    labelledby = element.get("aria-labelledby", "").split()
    if labelledby:
        parts = [page.find(id=i) for i in labelledby]
        return " ".join(p.get_text(" ", strip=True) for p in parts if p is not None)
    return " ".join(element.get("aria-label", "").split())


def landmark_role(element, name: str) -> str | None:
    explicit = element.get("role")
    if explicit:
        return explicit if explicit in LANDMARK_ROLES else None
    tag = element.name
    if tag in {"header", "footer"}:
        if element.find_parent(SECTIONING) is not None:
            return None
        return "banner" if tag == "header" else "contentinfo"
    implicit = {"nav": "navigation", "aside": "complementary", "main": "main", "search": "search"}
    if tag in implicit:
        return implicit[tag]
    if tag in {"section", "form"} and name:  # a landmark only when it is named
        return "region" if tag == "section" else "form"
    return None


def duplicate_landmarks(page) -> list[str]:
    """Landmarks of one role must differ by name (ARIA's landmark rules, axe's
    landmark-unique): else assistive technology lists two that cannot be told apart."""
    seen: dict[tuple[str, str], int] = {}
    for element in page.find_all(True):
        name = accessible_name(element, page)
        role = landmark_role(element, name)
        if role is not None:
            seen[(role, name)] = seen.get((role, name), 0) + 1
    return [
        f'{count} {role} landmarks named "{name}"'
        for (role, name), count in sorted(seen.items())
        if count > 1
    ]


def html_problems(response) -> list[str]:
    problems: list[str] = []
    checker = NestingChecker()
    checker.feed(response.content.decode())
    checker.close()
    problems += checker.errors

    page = soup(response)
    for element in page.find_all("time", datetime=True):
        if not TIME_VALUE.match(element["datetime"]):
            card = element.find_parent("li", class_="card")
            where = " in li." + ".".join(card["class"]) if card else ""
            problems.append(f'<time datetime="{element["datetime"]}">{where}')
    problems += [f"maxlength on <select name={s.get('name')}>" for s in page.select("select")
                 if s.has_attr("maxlength")]  # fmt: skip

    ids = [element["id"] for element in page.find_all(id=True)]
    problems += [f'duplicate id="{i}"' for i in sorted({i for i in ids if ids.count(i) > 1})]
    known = set(ids)
    for attribute in ID_REFERENCES:
        for element in page.find_all(attrs={attribute: True}):
            for target in element[attribute].split():
                if target not in known:
                    problems.append(f'<{element.name} {attribute}="{target}"> names no element')

    problems += duplicate_landmarks(page)
    for p in page.find_all("p"):
        problems += [f"<{child.name}> inside <p>" for child in p.find_all(NOT_IN_P)]
    for form in page.find_all("form"):
        problems += ["<form> inside <form>" for _ in form.find_all("form")]
    for element in page.find_all(["a", "button"]):
        for inner in element.find_all(INTERACTIVE | {"input"}):
            if inner.name == "input" and inner.get("type") == "hidden":
                continue
            problems.append(f"<{inner.name}> inside <{element.name}>")
    for child, parents in PARENTS.items():
        for element in page.find_all(child):
            if element.parent is not None and element.parent.name not in parents:
                problems.append(f"<{child}> inside <{element.parent.name}>")
    return problems


@pytest.fixture
def content(personas):
    load_content()
    return organisers_event(personas[roles.ORGANISER].user)


def aid_desk_pages(language: str) -> list[tuple[str, Page]]:
    """The volunteer's console and the coordinator's figures, volunteers and catalogue: staff
    pages whose tables scroll in regions of their own on a phone."""
    with translation.override(language):
        return [
            (roles.VOLUNTEER, Page("console", reverse("aid:console"))),
            (roles.COORDINATOR, Page("figures", reverse("aid:dashboard"))),
            (roles.COORDINATOR, Page("volunteers", reverse("aid:volunteers"))),
            (roles.COORDINATOR, Page("catalogue", reverse("aid:catalogue"))),
        ]


def main_page_problems(client, personas, event, language) -> list[str]:
    pages = [(None, page) for page in public_pages(language)]
    pages += staff_pages(language, event) + aid_desk_pages(language)
    with translation.override(language):
        pages += [(None, Page(name, reverse(name))) for name in ("account_signup", "account_login")]
    found: list[str] = []
    clients = {None: client}
    for role, page in pages:
        if role not in clients:
            clients[role] = signed_in(personas[role].user)
        response = clients[role].get(page.path)
        assert response.status_code == 200, page.path
        found += [f"{page.path}: {problem}" for problem in html_problems(response)]
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_have_none_of_the_html_errors_seen(client, personas, content, language):
    assert main_page_problems(client, personas, content, language) == []


@pytest.mark.parametrize(
    "html, problem",
    [
        ('<time datetime="2026-12-08T18:00:00.123456+01:00">x</time>', "<time datetime"),
        ('<select name="a" maxlength="3"></select>', "maxlength on <select"),
        ("<p><div>x</div></p>", "<div> inside <p>"),
        ("<div><span>x</div></span>", "</div> while <span>"),
        ('<input aria-describedby="nowhere">', 'aria-describedby="nowhere"> names no element'),
        ('<i id="a"></i><b id="a"></b>', 'duplicate id="a"'),
        ('<a href="/"><button>x</button></a>', "<button> inside <a>"),
        (
            '<nav aria-label="Site"><a href="/">a</a></nav><nav aria-label="Site"></nav>',
            '2 navigation landmarks named "Site"',
        ),
        ("<main>a</main><main>b</main>", '2 main landmarks named ""'),
    ],
)
def test_the_guard_sees_each_error(html, problem):
    class Response:
        content = f"<!DOCTYPE html><html><body>{html}</body></html>".encode()

    assert any(problem in found for found in html_problems(Response())), html_problems(Response())


def test_the_guard_accepts_valid_html():
    class Response:
        content = (
            b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
            b"<body><ul><li>a</li><li>b</li></ul><p>one</p><dl><dt>x</dt><dd>y</dd></dl>"
            b'<label for="f">F</label><input id="f" aria-describedby="h"><span id="h">h</span>'
            b'<time datetime="2026-12-08T18:00+0100">8 Dec</time><svg><path d="M0 0"/></svg>'
            b"<table><tr><td>1</td><td>2</td></tr></table>"
            b'<nav aria-label="Site"></nav><nav aria-label="Language"></nav>'
            b'<section><h2 id="a">A</h2></section><section aria-labelledby="b"><h2 id="b">B</h2>'
            b'</section><section aria-labelledby="c"><h2 id="c">C</h2></section></body></html>'
        )

    assert html_problems(Response()) == []
