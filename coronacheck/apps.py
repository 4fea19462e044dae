from django.apps import AppConfig


class CoronacheckConfig(AppConfig):
    name = "coronacheck"
    verbose_name = "Project: operator commands"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from coronacheck import staff

        staff.connect()
