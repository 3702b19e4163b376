"""Every form label Krov shows starts with a capital letter (the audit found "name",
"email" beside "Title"): each form of each app, in English."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django import forms
from django.utils import translation

import krov


def krov_forms() -> list[type[forms.BaseForm]]:
    found = []
    for module_info in pkgutil.iter_modules(krov.__path__):
        if not module_info.ispkg:
            continue  # the apps are packages (krov.__main__ would run a command)
        try:
            module = importlib.import_module(f"krov.{module_info.name}.forms")
        except ModuleNotFoundError:
            continue
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_the_walk_finds_the_forms_of_every_part():
    modules = {form.__module__ for form in krov_forms()}
    assert {"krov.aid.forms", "krov.events.forms", "krov.housing.forms"} <= modules


def test_every_form_label_starts_with_a_capital_letter():
    lower = []
    with translation.override("en"):
        for form in krov_forms():
            for name, field in form.base_fields.items():
                label = str(field.label) if field.label is not None else ""
                if label and label[0].islower():
                    lower.append(f"{form.__module__}.{form.__name__}.{name}: {label}")
    assert lower == []
