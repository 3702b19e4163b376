"""Old slugs keep working: when a page's slug changes, its old one is kept in `OldSlug`, and
any URL of that page under the old slug (the page, its .ics, cover, RSVP form…) answers 301
to the same URL under the current slug.

Apps say which of their URL names take which model's slug in `AppConfig.ready()` with
`register()`; `OldSlugMiddleware` looks an old slug up only for a 404 on such a URL."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

# "namespace:url_name" -> model label ("events.event")
_url_names: dict[str, str] = {}


def register(model_label: str, url_names: list[str]) -> None:
    """URLs named `url_names` ("events:detail") take a slug of `model_label` as `slug`."""
    for name in url_names:
        _url_names[name] = model_label


def record(model_label: str, old_slug: str, slug: str) -> None:
    """`old_slug` now leads to `slug` (and so does every slug that led to `old_slug`)."""
    from krov.core.models import OldSlug

    if not old_slug or old_slug == slug:
        return
    OldSlug.objects.filter(model=model_label, slug=old_slug).update(slug=slug)
    OldSlug.objects.filter(model=model_label, old_slug=slug).delete()
    OldSlug.objects.update_or_create(model=model_label, old_slug=old_slug, defaults={"slug": slug})


def current_slug(model_label: str, old_slug: str) -> str | None:
    from krov.core.models import OldSlug

    return (
        OldSlug.objects.filter(model=model_label, old_slug=old_slug)
        .values_list("slug", flat=True)
        .first()
    )


def moved(request: HttpRequest) -> HttpResponsePermanentRedirect | None:
    """The redirect for a URL that names a page by an old slug, else None."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    label = _url_names.get(match.view_name)
    slug = match.kwargs.get("slug")
    if not label or not slug:
        return None
    new = current_slug(label, slug)
    if not new:
        return None
    try:
        url = reverse(match.view_name, args=match.args, kwargs={**match.kwargs, "slug": new})
    except NoReverseMatch:
        return None
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


class OldSlugMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and request.method in {"GET", "HEAD"}:
            return moved(request) or response
        return response


def remake_slugs(
    apps,
    model_label: str,
    *,
    texts: str,
    title: str,
    max_length: int,
    rule: Callable[[str, str], str],
    old_rule: Callable[[str], str],
) -> int:
    """For data migrations: give rows whose slug the old rule made from their original
    title (`old_rule(title)` followed by anything, e.g. a date or a random suffix) the
    slug the new `rule(title, language)` makes, keep the rest of the slug, and record the
    old one. Rows with a slug typed by hand are left alone. Returns how many changed."""
    model = apps.get_model(model_label)
    old_slugs = apps.get_model("core", "OldSlug")
    label = model_label.lower()
    changed = 0
    for row in model.objects.order_by("pk"):
        text = getattr(row, texts).filter(language=row.original_language).first()
        if text is None:
            continue
        name = getattr(text, title)
        old_base = old_rule(name)[:max_length].strip("-")
        new_base = rule(name, row.original_language)[:max_length].strip("-")
        if not old_base or not new_base or old_base == new_base:
            continue
        if not row.slug.startswith(old_base):
            continue
        rest = row.slug[len(old_base) :]
        if rest and not rest.startswith("-"):
            continue
        candidate = (new_base + rest)[: model._meta.get_field("slug").max_length]
        suffix = 1
        while model.objects.filter(slug=candidate).exclude(pk=row.pk).exists():
            suffix += 1
            candidate = f"{new_base}{rest}-{suffix}"
        old_slugs.objects.filter(model=label, slug=row.slug).update(slug=candidate)
        old_slugs.objects.update_or_create(
            model=label, old_slug=row.slug, defaults={"slug": candidate}
        )
        model.objects.filter(pk=row.pk).update(slug=candidate)
        changed += 1
    return changed
