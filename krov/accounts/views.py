from __future__ import annotations

from typing import cast

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from krov.accounts import roles as role_defs
from krov.accounts import services
from krov.accounts.models import User
from krov.core.access import authenticated, requires
from krov.core.models import AuditEvent


@authenticated
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    context = {
        "roles": [
            role_defs.ROLE_LABELS[r] for r in role_defs.ROLE_ORDER if r in services.user_roles(user)
        ],
        "has_mfa": services.has_mfa(user),
        "requires_mfa": services.requires_mfa(user),
    }
    return render(request, "accounts/dashboard.html", context)


@requires("accounts.view_audit_log")
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    kind = request.GET.get("kind", "")
    if kind in AuditEvent.Kind.values:
        events = events.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {"page": page, "kinds": AuditEvent.Kind.choices, "kind": kind}
    response = render(request, "accounts/audit_log.html", context)
    response["Cache-Control"] = "no-store"
    return response
