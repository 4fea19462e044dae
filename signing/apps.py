from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "Signing: rules, providers and signers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signing import signals

        signals.connect()
