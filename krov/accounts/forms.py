from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from krov.accounts.models import User


class SignupForm(forms.Form):
    """Extra signup field for allauth: the pseudonym others will see."""

    pseudonym = forms.CharField(
        label=_("Pseudonym"),
        max_length=40,
        min_length=2,
        help_text=_("The name other people see. It need not be your real name."),
    )

    def clean_pseudonym(self) -> str:
        from krov.accounts import services

        try:
            return services.clean_pseudonym(self.cleaned_data["pseudonym"])
        except services.AccountError as error:
            raise forms.ValidationError(str(error)) from None

    def signup(self, request, user) -> None:
        from krov.accounts import roles, services

        services.set_roles(user, [roles.MEMBER], actor=None)


class DuressForm(forms.Form):
    password = forms.CharField(label=_("Your current password"), widget=forms.PasswordInput)
    duress_password = forms.CharField(
        label=_("Duress password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_(
            "If someone forces you to sign in, type this instead of your password: the sign-in "
            "seems to fail, your account locks and your cases go back to the coordinators. "
            "Leave empty to remove it."
        ),
    )


class SettingsForm(forms.Form):
    """A person's own settings. The rules (free pseudonyms, the languages Krov speaks, the
    channels that can reach this person) are the services'; this form offers what they allow."""

    pseudonym = forms.CharField(
        label=_("Pseudonym"),
        max_length=40,
        min_length=2,
        help_text=_("The name other people see. It need not be your real name."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        help_text=_(
            "Krov writes to you in this language: emails, Telegram messages and notifications."
        ),
    )
    notification_channel = forms.ChoiceField(
        label=_("Notifications"),
        widget=forms.RadioSelect,
        help_text=_(
            "Where Krov tells you that something waits for you. Safety notices (such as a new "
            "key for your account) reach you even if you choose none."
        ),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        from django.utils.translation import get_language_info

        from krov.accounts import services
        from krov.core.services import interface_languages

        kwargs.setdefault(
            "initial",
            {
                "pseudonym": user.pseudonym,
                "language": services.supported_language(user.language),
                "notification_channel": services.current_notification_channel(user),
            },
        )
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            (code, get_language_info(code)["name_local"]) for code in interface_languages()
        ]
        cast(
            forms.ChoiceField, self.fields["notification_channel"]
        ).choices = services.notification_choices(user)

    def clean_pseudonym(self) -> str:
        from krov.accounts import services

        try:
            return services.clean_pseudonym(self.cleaned_data["pseudonym"], user=self.user)
        except services.AccountError as error:
            raise forms.ValidationError(str(error)) from None
