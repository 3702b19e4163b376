from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from krov.accounts import home as accounts_home
from krov.accounts import roles as role_defs
from krov.accounts import services
from krov.accounts.forms import DuressForm, SettingsForm
from krov.accounts.models import RoleGrant, UnlockRequest, User
from krov.core import audit, home, inputs
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
        "panels": home.panels_for(user, also=[accounts_home.admin_panel]),
    }
    response = render(request, "accounts/dashboard.html", context)
    response["Cache-Control"] = "no-store"
    return response


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
    # For people: labels, never the stored codes ("housing_flagged", "scam").
    rows = [
        {
            "event": event,
            "kind": audit.kind_label(event.kind),
            "details": audit.describe(event.detail or {}),
        }
        for event in page
    ]
    context = {"page": page, "rows": rows, "kinds": AuditEvent.Kind.choices, "kind": kind}
    response = render(request, "accounts/audit_log.html", context)
    response["Cache-Control"] = "no-store"
    return response


@authenticated
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    """A person's own settings: pseudonym, the language Krov writes to them in, and where
    notifications go."""
    user = cast(User, request.user)
    form = SettingsForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.update_settings(user, **form.cleaned_data, actor=user)
            except services.AccountError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                if changed:
                    messages.success(request, _("Your settings are saved."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("accounts:settings")
        else:
            status = 400
    offered = {name for name, _label in services.notification_choices(user)}
    context = {"form": form, "telegram_offered": "telegram" in offered}
    response = render(request, "accounts/settings.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@authenticated
@require_safe
def safety(request: HttpRequest) -> HttpResponse:
    """Password, second factors, duress and panic in one place (each on its own page)."""
    user = cast(User, request.user)
    context = {
        "factors": services.second_factors(user),
        "has_mfa": services.has_mfa(user),
        "has_password": user.has_usable_password(),
        "has_duress": bool(user.duress_password),
    }
    response = render(request, "accounts/safety.html", context)
    response["Cache-Control"] = "no-store"
    return response


@authenticated
@require_http_methods(["GET", "POST"])
def panic(request: HttpRequest) -> HttpResponse:
    """One press locks the account: every session ends, cases go back to triage."""
    if request.method == "POST":
        user = cast(User, request.user)
        services.panic(user, via="button")
        logout(request)
        return render(request, "accounts/panic_done.html")
    return render(request, "accounts/panic.html")


@authenticated
@sensitive_post_parameters("password", "duress_password")
@require_http_methods(["GET", "POST"])
def duress(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    # Bound on every POST, even an empty one: an empty form gets its errors, not a bare 400.
    form = DuressForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and user.check_password(form.cleaned_data["password"]):
            try:
                services.set_duress_password(user, form.cleaned_data["duress_password"], actor=user)
            except services.AccountError as error:
                form.add_error("duress_password", str(error))
                status = 400
            else:
                if form.cleaned_data["duress_password"]:
                    messages.success(request, _("Your duress password is set."))
                else:
                    messages.success(request, _("Your duress password is removed."))
                return redirect("accounts:safety")
        else:
            if form.is_valid():
                form.add_error("password", _("This is not your current password."))
            status = 400
    context = {"form": form, "has_duress": bool(user.duress_password)}
    return render(request, "accounts/duress.html", context, status=status)


@authenticated
@require_http_methods(["GET", "POST"])
def role_requests(request: HttpRequest) -> HttpResponse:
    """Administrators and coordinators confirm or refuse requests for roles that open cases."""
    user = cast(User, request.user)
    if not services.may_confirm(user):
        raise PermissionDenied
    if request.method == "POST" and request.POST.get("unlock"):
        return _decide_unlock(request, user)
    if request.method == "POST":
        grant_id = inputs.uuid_or_none(request.POST.get("grant"))
        grant = (
            RoleGrant.objects.filter(public_id=grant_id, status=RoleGrant.Status.PENDING).first()
            if grant_id
            else None
        )
        decision = request.POST.get("decision")
        if grant is None or decision not in {"confirm", "refuse"}:
            messages.error(request, _("This request no longer waits for a decision."))
            return redirect("accounts:role_requests")
        try:
            if decision == "confirm":
                services.confirm_role_grant(grant, actor=user)
                messages.success(request, _("Confirmed. Every coordinator is told."))
            else:
                services.refuse_role_grant(grant, actor=user)
                messages.success(request, _("Refused."))
        except services.AccountError as error:
            messages.error(request, str(error))
        return redirect("accounts:role_requests")
    context = {
        "grants": services.pending_role_grants(user),
        "unlocks": services.pending_unlocks(user),
        "role_labels": role_defs.ROLE_LABELS,
    }
    response = render(request, "accounts/role_requests.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _decide_unlock(request: HttpRequest, user: User) -> HttpResponse:
    unlock_id = inputs.uuid_or_none(request.POST.get("unlock"))
    found = (
        UnlockRequest.objects.filter(
            public_id=unlock_id, status=UnlockRequest.Status.PENDING
        ).first()
        if unlock_id
        else None
    )
    decision = request.POST.get("decision")
    if found is None or decision not in {"confirm", "refuse"}:
        messages.error(request, _("This request no longer waits for a decision."))
        return redirect("accounts:role_requests")
    try:
        services.decide_unlock(found, actor=user, confirm=decision == "confirm")
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Confirmed.") if decision == "confirm" else _("Refused."))
    return redirect("accounts:role_requests")
