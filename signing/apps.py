from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "Signing: submissions, UCI audit and print tokens"
    default_auto_field = "django.db.models.BigAutoField"
