from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from krov.accounts import services

# Where a user who must set up a second factor may still go.
MFA_SETUP_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_reauthenticate",
        "account_reauthenticate",
        "account_logout",
        "account_confirm_email",
        "account_email_verification_sent",
        "healthz",
        # A person who may be in danger can always lock their account, and find how: the
        # safety page and the duress password too, before their second factor is set up.
        "panic",
        "safety",
        "duress",
    }
)


class RequireMFAMiddleware:
    """Volunteers, coordinators and admins reach nothing but MFA set-up until they have it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in MFA_SETUP_URL_NAMES:
            return None
        if not services.requires_mfa(user) or services.has_mfa(user):
            return None
        from django.urls import reverse

        target = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        messages.warning(
            request,
            _("Your role needs two-factor authentication. Please set it up to continue."),
        )
        return redirect(target)
