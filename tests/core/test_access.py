"""Every Krov view declares who may reach it (krov.core.access)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

THIRD_PARTY = ("django.contrib.admin", "allauth.", "django.views.i18n")


def iter_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_krov_view_declares_its_access():
    krov_views = [
        (route, view)
        for route, view in iter_patterns(get_resolver().url_patterns)
        # The admin site guards its own views (staff + model permissions; tested in
        # tests/accounts/test_mfa.py), including the ones krov's ModelAdmins override.
        if view.__module__.startswith("krov.") and not route.startswith("admin/")
    ]
    assert len(krov_views) >= 4
    undeclared = [route for route, view in krov_views if not hasattr(view, "krov_access")]
    assert not undeclared, f"views without an access declaration: {undeclared}"


def test_access_declarations_are_what_we_expect():
    from krov.accounts import views as account_views
    from krov.core import views as core_views

    assert core_views.home.krov_access == "public"
    assert core_views.healthz.krov_access == "public"
    assert core_views.readyz.krov_access == "public"
    assert core_views.metrics.krov_access == ("token", "Prometheus (KROV_METRICS_TOKEN)")
    assert account_views.dashboard.krov_access == "authenticated"
    assert account_views.audit_log.krov_access == ("perms", ("accounts.view_audit_log",))


def test_the_press_pages_are_for_editors():
    from krov.press import views as press_views

    editors = ("perms", ("accounts.edit_bulletins",))
    for view in (
        press_views.story_list,
        press_views.story_status,
        press_views.story_answer,
        press_views.source_list,
        press_views.source_active,
        press_views.term_list,
        press_views.term_change,
        press_views.term_remove,
    ):
        assert view.krov_access == editors, view.__name__
