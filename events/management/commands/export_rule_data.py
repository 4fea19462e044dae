"""`manage.py export_rule_data <folder>` (settings.md §1.4): rule data as the upstream files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from events.ruledata import rule_data_current, rule_data_files


class Command(BaseCommand):
    help = (
        "Write the current rule data as the six upstream files into a folder (created if missing), in "
        "the format load_rule_data reads. Existing files of the same names are overwritten only with "
        "--force. The HPK file has one entry per code (lot details are not kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="target folder")
        parser.add_argument("--force", action="store_true", help="overwrite existing files")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["folder"])
        files = rule_data_files(rule_data_current(), export_date=timezone.now().date())
        existing = [name for name in files if (folder / name).exists()]
        if existing and not options["force"]:
            raise CommandError(f"{folder} already holds {', '.join(existing)}; use --force to overwrite")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write to {folder}: {exc.strerror}") from None
        for name in files:
            self.stdout.write(f"wrote {folder / name}")
