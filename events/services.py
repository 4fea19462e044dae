"""Writes of the rule configuration: seeding, reset, validated changes and the version bump
that makes every worker reload its snapshot (settings.md §1.4, §3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from events import models
from events.rules.config import RULE_CONSTANT_NAMES, rule_constants_problems
from events.seed import RuleData, rule_data_from_folder

RULE_CONSTANT_FIELDS = RULE_CONSTANT_NAMES


class RuleChangeError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def configuration_version_bump() -> None:
    updated = models.ConfigurationVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        models.ConfigurationVersion.objects.get_or_create(pk=1, defaults={"version": 1})


def seed_rule_data_into(get_model: Callable[[str], Any], data: RuleData, *, replace: bool) -> None:
    """Write rule data through `get_model(name)` (real or migration models)."""
    HpkCode = get_model("HpkCode")
    ValueSetEntry = get_model("ValueSetEntry")
    RequiredDoses = get_model("RequiredDoses")
    PartialDisclosureRule = get_model("PartialDisclosureRule")
    if replace:
        for model in (HpkCode, ValueSetEntry, RequiredDoses, PartialDisclosureRule):
            model.objects.all().delete()
    HpkCode.objects.bulk_create([HpkCode(code=c, vp=e.vp, mp=e.mp, ma=e.ma) for c, e in data.hpk_codes.items()])
    entries = []
    for kind, values in (
        ("vaccine-mah-manf", data.vaccine_manufacturers),
        ("vaccine-medicinal-product", data.vaccine_products),
        ("test-type", data.test_types),
    ):
        entries += [ValueSetEntry(kind=kind, code=code, display=display[:200]) for code, display in values.items()]
    ValueSetEntry.objects.bulk_create(entries)
    RequiredDoses.objects.bulk_create([RequiredDoses(brand=b, doses=d) for b, d in data.required_doses.items()])
    PartialDisclosureRule.objects.bulk_create(
        [PartialDisclosureRule(initials=k, letters=v) for k, v in data.partial_disclosure.items()]
    )


def seed_folder_data() -> RuleData:
    return rule_data_from_folder(Path(settings.RESOURCE_FOLDER), settings.HPK_MAPPING_FILE)


RULE_HISTORY_MODELS = ("RuleConfiguration", "HpkCode", "ValueSetEntry", "RequiredDoses", "PartialDisclosureRule")


def rule_history_baseline_ensure() -> None:
    """Give rows written without history (the seed migration, bulk seeding) a first history entry,
    so that the first change by staff shows old -> new in the change history."""
    for name in RULE_HISTORY_MODELS:
        model = getattr(models, name)
        missing = list(model.objects.exclude(pk__in=model.history.values("id")))
        if missing:
            model.history.bulk_history_create(missing, default_change_reason="seed")


@transaction.atomic
def rules_seed_if_empty() -> bool:
    """Seed the constants and rule data when the database has none (start-up, migrations).

    Safe when several threads or worker processes find an empty database at once (found by the
    graceful-shutdown test: concurrent first requests on a fresh database were 500s with an
    IntegrityError): one seeds, under a transaction-level advisory lock on PostgreSQL; the others
    wait and find the rows. Elsewhere (SQLite, one process) a lost race is an IntegrityError that
    is rolled back, and the rows are there."""
    if _rules_present():
        return False
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RULE_SEED_LOCK])
            return _rules_seed_if_empty_locked()
    except IntegrityError:
        return False


# An arbitrary constant naming the seeding lock among PostgreSQL advisory locks.
RULE_SEED_LOCK = 0x52554C4553


def _rules_present() -> bool:
    return models.RuleConfiguration.objects.filter(pk=1).exists() and (
        models.HpkCode.objects.exists() or models.ValueSetEntry.objects.exists()
    )


def _rules_seed_if_empty_locked() -> bool:
    created = False
    if not models.RuleConfiguration.objects.filter(pk=1).exists():
        models.RuleConfiguration.objects.create(pk=1)
        created = True
    if not models.HpkCode.objects.exists() and not models.ValueSetEntry.objects.exists():
        seed_rule_data_into(lambda name: getattr(models, name), seed_folder_data(), replace=False)
        created = True
    if created:
        configuration_version_bump()
        # Bulk-seeded rows have no history yet; rows seeded by the migration get theirs before
        # their first change (admin, set_rules, load_rule_data). Not repeated on every snapshot
        # reload, which calls this function too.
        rule_history_baseline_ensure()
    return created


@transaction.atomic
def rules_reset() -> None:
    """Restore the production defaults and the bundled rule data (`set_rules --reset`)."""
    defaults = models.RuleConfiguration(pk=1)
    defaults.save()
    seed_rule_data_into(lambda name: getattr(models, name), seed_folder_data(), replace=True)
    configuration_version_bump()
    rule_history_baseline_ensure()


@transaction.atomic
def rule_configuration_update(changes: dict[str, Any]) -> models.RuleConfiguration:
    """Apply validated changes to the rule constants; history is recorded by simple-history.
    Values equal to the current ones are no change: without any real change nothing is written
    (no history record, no version bump)."""
    unknown = sorted(set(changes) - set(RULE_CONSTANT_FIELDS))
    if unknown:
        raise RuleChangeError({name: "is not a business-rule setting" for name in unknown})
    row = models.RuleConfiguration.objects.select_for_update().get(pk=1)
    changes = {name: value for name, value in changes.items() if getattr(row, name) != value}
    if not changes:
        return row
    rule_history_baseline_ensure()
    values = {name: getattr(row, name) for name in RULE_CONSTANT_FIELDS}
    values.update(changes)
    problems = rule_constants_problems(values)
    if problems:
        raise RuleChangeError(problems)
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    configuration_version_bump()
    return row
