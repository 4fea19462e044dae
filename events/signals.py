"""Every change of rules or registry bumps the configuration version (settings.md §3)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from events import models

WATCHED = (
    models.RuleConfiguration,
    models.HpkCode,
    models.ValueSetEntry,
    models.RequiredDoses,
    models.PartialDisclosureRule,
    models.Provider,
    models.ProviderCertificate,
)


def _bump(sender, **kwargs) -> None:
    from events.services import configuration_version_bump

    configuration_version_bump()


def connect() -> None:
    for model in WATCHED:
        post_save.connect(_bump, sender=model, dispatch_uid=f"version-bump-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"version-bump-delete-{model.__name__}")
