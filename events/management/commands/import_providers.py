"""`manage.py import_providers [file.json5]` (access-tokens.md §5; the default file is the setting
`EVENT_DATA_PROVIDERS_FILENAME`, settings.md §1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.providers import ProviderImportError, providers_import


class Command(BaseCommand):
    help = (
        "Import providers from an upstream-format JSON5 file (vaccinationproviders.json5). The whole "
        "file is validated first and imported in one transaction: providers are upserted by "
        "identifier; providers and certificate entries not in the file are left alone; existing "
        "certificate entries keep their status. On any invalid entry nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", help="path of the JSON5 provider file (default: the EVENT_DATA_PROVIDERS_FILENAME setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = options["file"] or settings.EVENT_DATA_PROVIDERS_FILENAME
        if not chosen:
            raise CommandError("name the provider file, or set EVENT_DATA_PROVIDERS_FILENAME")
        path = Path(chosen)
        try:
            size = path.stat().st_size
            if size > settings.PROVIDER_FILE_MAX_BYTES:  # refused unread
                raise CommandError(
                    f"nothing imported: the file is too large ({size} bytes; at most {settings.PROVIDER_FILE_MAX_BYTES})"
                )
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {type(exc).__name__}") from None
        try:
            providers, certificates = providers_import(text)
        except ProviderImportError as exc:
            raise CommandError(f"nothing imported: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {providers} provider(s), {certificates} new certificate entr{'y' if certificates == 1 else 'ies'}"
            )
        )
