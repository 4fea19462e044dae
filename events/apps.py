from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _rules_seeded(sender: AppConfig, **kwargs: Any) -> None:
    """After `migrate` and after `flush` (tests), the rule constants and rule data exist: seeded
    from the bundled files when empty (settings.md §1.4, §2), as Django recreates content types."""
    # Imported here: the services import the models, which are not ready when this module loads.
    from events.services import rules_seed_if_empty

    rules_seed_if_empty()


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events: rules, rule data and providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_rules_seeded, sender=self, dispatch_uid="events-rules-seeded")
