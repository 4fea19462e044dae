from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API: rate-limit counters"
    default_auto_field = "django.db.models.BigAutoField"
