"""`manage.py check_config`: the start-up validation report (settings.md §2, api.md §8)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coronacheck.config_checks import config_problems, config_warnings


class Command(BaseCommand):
    help = (
        "Run the start-up validation (settings, key files, rule constants and rule data, provider "
        "registry) and print a report. Names settings, never prints a secret. Exits with status 1 "
        "when there is a problem; warnings alone do not fail."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEVELOPMENT_DEFAULTS:
            names = ", ".join(settings.DEVELOPMENT_DEFAULTS)
            self.stdout.write(self.style.WARNING(f"development mode (DEBUG): generated development values in .dev/ for {names}"))
        problems = config_problems()
        warnings = config_warnings()
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        for problem in problems:
            self.stdout.write(self.style.ERROR(f"problem: {problem}"))
        if problems:
            raise CommandError(f"configuration invalid: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS(f"configuration valid ({len(warnings)} warning(s))"))
