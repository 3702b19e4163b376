from django.apps import AppConfig


class EncryptedAppConfig(AppConfig):
    name = "tests.encrypted_app"
    label = "encrypted_app"
