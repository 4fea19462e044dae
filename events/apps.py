from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events: rules, rule data and providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events import signals

        signals.connect()
