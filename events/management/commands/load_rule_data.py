"""`manage.py load_rule_data <folder>` (settings.md §1.4): rule data from the upstream files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.ruledata import RULE_DATA_FILES, RuleDataError, rule_data_read_folder, rule_data_replace


class Command(BaseCommand):
    help = (
        "Replace the rule data (HPK mapping, accepted vaccine manufacturers and products, test types, "
        "required doses per brand, partial-disclosure allowlist) with the six upstream files of a folder: "
        + ", ".join(RULE_DATA_FILES)
        + ". Everything is validated before anything changes; the "
        "replacement is one transaction and appears row by row in the change history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="folder holding the six files")
        parser.add_argument(
            "--hpk-file", default=None, help="name of the HPK mapping file (default: the HPK_MAPPING_FILE setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hpk_file = options["hpk_file"] or settings.HPK_MAPPING_FILE
        try:
            self.stdout.write(f"reading and validating {options['folder']} …")
            data = rule_data_read_folder(options["folder"], hpk_file=hpk_file)
            self.stdout.write("replacing the rule data …")
            changes = rule_data_replace(data)
        except RuleDataError as exc:
            raise CommandError(f"nothing loaded: {exc}") from None
        for name, change in changes.items():
            self.stdout.write(f"{name}: {change.added} added, {change.changed} changed, {change.removed} removed")
        self.stdout.write(self.style.SUCCESS("rule data loaded"))
