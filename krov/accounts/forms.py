from __future__ import annotations

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
        pseudonym = " ".join(self.cleaned_data["pseudonym"].split())
        if User.objects.filter(pseudonym__iexact=pseudonym).exists():
            raise forms.ValidationError(_("This pseudonym is taken. Please choose another."))
        return pseudonym

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
