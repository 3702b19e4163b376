"""Every Krov view declares who may reach it.

A view is wrapped in exactly one of `public`, `authenticated` or `requires(perm)`; the
declaration is recorded on the view as `krov_access`, and a test walks every URL to prove
that no Krov view is left without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

View = Callable[..., HttpResponseBase]


def public(view: View) -> View:
    """Anyone, signed in or not."""
    view.krov_access = "public"  # type: ignore[attr-defined]
    return view


def authenticated(view: View) -> View:
    """Any signed-in account."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.krov_access = "authenticated"  # type: ignore[attr-defined]
    return wrapper


def requires(*perms: str) -> Callable[[View], View]:
    """A signed-in account holding every one of `perms` ("app_label.codename")."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.krov_access = ("perms", perms)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def token(label: str) -> Callable[[View], View]:
    """A machine that presents a token (`Authorization: Bearer ...`), no session: the view
    checks the token itself, as the first thing it does. `label` names who holds such tokens."""

    def decorator(view: View) -> View:
        view.krov_access = ("token", label)  # type: ignore[attr-defined]
        return view

    return decorator
