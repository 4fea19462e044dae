"""`manage.py rule_constants_doc`: print docs/rule-constants.md, generated from the definitions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from events.rules.config import rule_constants_markdown


class Command(BaseCommand):
    help = "Print the reference of the business-rule constants (docs/rule-constants.md) from their definitions."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(rule_constants_markdown(), ending="")
