from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "devtools"
    verbose_name = "Development tools: reference signers, fakes"
    default_auto_field = "django.db.models.BigAutoField"
