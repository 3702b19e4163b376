from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from krov.api.api import api
from krov.core import views as core_views

# The admin signs in through allauth (rate limits, MFA), never through its own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
# allauth's pages for email addresses and second factors would let an administrator add an
# address to someone's account or remove their TOTP: people manage their own, nobody else.
for _model in (EmailAddress, EmailConfirmation, Authenticator):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
admin.site.site_header = "Krov"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("krov.telegram.urls")),
    path("", include("krov.aid.urls_custodian")),
    path("", include("krov.events.urls_feeds")),
    path("", include("krov.core.urls_site")),
    path("api/v1/", api.urls),
]

urlpatterns += i18n_patterns(
    path("", include("krov.core.urls")),
    path("", include("krov.accounts.urls")),
    path("", include("krov.aid.urls")),
    path("", include("krov.telegram.urls_i18n")),
    path("", include("krov.events.urls")),
    path("", include("krov.bulletins.urls")),
    path("", include("krov.directory.urls")),
    path("", include("krov.housing.urls")),
    path("", include("krov.press.urls")),
    path("accounts/", include("allauth.urls")),
    prefix_default_language=True,
)

handler400 = "krov.core.views.bad_request"
handler403 = "krov.core.views.permission_denied"
handler404 = "krov.core.views.page_not_found"
handler500 = "krov.core.views.server_error"
