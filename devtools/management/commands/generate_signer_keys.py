"""Generate the EU signer's development DSC keys, one per key usage (signers.md §3.3 step 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.reference.keys import (
    generate_signer_keys,
    key_folder_from_environment,
    load_signer_keys,
)


class Command(BaseCommand):
    help = (
        "Create an EC P-256 key and a self-signed DSC per key usage (vaccination, test, recovery) in the "
        "key folder (default: $EU_SIGNER_KEY_FOLDER or .dev/signer-keys/). Existing keys are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-folder", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        folder = key_folder_from_environment(options["key_folder"])
        created = generate_signer_keys(folder, now=datetime.now(UTC))
        for usage, key in load_signer_keys(folder).items():
            state = "created" if usage in created else "kept"
            self.stdout.write(f"{usage}: kid {key.kid.hex()} ({state}) in {folder}")
