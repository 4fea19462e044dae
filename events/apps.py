from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events: submissions and audit"
    default_auto_field = "django.db.models.BigAutoField"
