"""`manage.py set_rules KEY=VALUE ...` (api.md §8, settings.md §1.4)."""

from __future__ import annotations

import getpass
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.models import RuleConfiguration
from events.services import RULE_CONSTANT_FIELDS, RuleChangeError, rule_configuration_update, rules_reset, rules_seed_if_empty


def change_reason_record(reason: str) -> None:
    """Name the command and the operating-system user on the newest history entry (the admin
    records the staff user instead)."""

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    record = RuleConfiguration.history.filter(id=1).order_by("-history_date", "-history_id").first()
    if record is not None:
        record.history_change_reason = f"{reason} (by {user})"[:100]
        record.save(update_fields=["history_change_reason"])


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """`NAME=<JSON>` pairs with the spec's upper-case setting names → field name → value."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{assignment!r} is not NAME=VALUE")
        field = name.strip().lower()
        if field not in RULE_CONSTANT_FIELDS:
            raise CommandError(
                f"{name.strip()} is not a business-rule setting; known: " + ", ".join(f.upper() for f in RULE_CONSTANT_FIELDS)
            )
        try:
            changes[field] = json.loads(raw)
        except ValueError:
            raise CommandError(
                f"the value of {field.upper()} is not JSON (write text in double quotes, lists as "
                f"'[\"LP6464-4\"]', empty as null)"
            ) from None
    return changes


class Command(BaseCommand):
    help = (
        "Change business-rule settings (settings.md §1.4) with the admin's validation and change history. "
        "Values are JSON: set_rules DOMESTIC_MAXIMUM_ISSUANCE_DAYS=14 EU_RECOVERY_TEST_TYPES='[\"LP6464-4\"]' "
        "EU_INTERNATIONAL_PRINT_EXPIRATION_TIME_DAYS=null. Without arguments, prints the current values. "
        "--reset restores the production defaults and the bundled rule data. Every worker picks a change "
        "up within RULE_CACHE_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("assignments", nargs="*", metavar="NAME=VALUE")
        parser.add_argument("--reset", action="store_true", help="restore the production defaults and rule data")

    def handle(self, *args: Any, **options: Any) -> None:

        if options["reset"]:
            if options["assignments"]:
                raise CommandError("--reset takes no NAME=VALUE arguments")
            rules_reset()
            change_reason_record("manage.py set_rules --reset")
            self.stdout.write(self.style.SUCCESS("business rules and rule data reset to the production defaults"))
            return
        rules_seed_if_empty()
        before = RuleConfiguration.objects.get(pk=1)
        changes = parse_assignments(options["assignments"])
        if not changes:
            for field in RULE_CONSTANT_FIELDS:
                self.stdout.write(f"{field.upper()}={json.dumps(getattr(before, field))}")
            return
        unchanged = [field for field, value in changes.items() if getattr(before, field) == value]
        for field in unchanged:
            self.stdout.write(f"{field.upper()}: {json.dumps(getattr(before, field))} (unchanged)")
        changes = {field: value for field, value in changes.items() if field not in unchanged}
        if not changes:
            self.stdout.write("nothing changed: no history record written")
            return
        try:
            row = rule_configuration_update(changes)
        except RuleChangeError as exc:
            for field, problem in exc.problems.items():
                self.stderr.write(f"{field.upper()}: {problem}")
            raise CommandError("nothing changed: the new values are invalid") from None
        change_reason_record("manage.py set_rules")
        for field in changes:
            old, new = json.dumps(getattr(before, field)), json.dumps(getattr(row, field))
            self.stdout.write(f"{field.upper()}: {old} -> {new}")
