"""Generate the reference signers' development keys: the EU signer's DSC keys, one per key usage
(signers.md §3.3 step 1), and the domestic signer's Idemix key pair (signers.md §2.7)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.reference.keys import (
    generate_idemix_keys,
    generate_signer_keys,
    idemix_key_folder,
    key_folder_from_environment,
    load_idemix_keys,
    load_signer_keys,
)
from idemix import keys as idemix_keys


class Command(BaseCommand):
    help = (
        "Create an EC P-256 key and a self-signed DSC per key usage (vaccination, test, recovery) in the "
        "key folder (default: $EU_SIGNER_KEY_FOLDER or .dev/signer-keys/), and an Idemix key pair for the "
        "domestic signer (2048-bit modulus from safe primes, 12 bases, gabi XML pk.xml/sk.xml) in its "
        "idemix/ subfolder. Existing keys are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-folder", default=None)
        parser.add_argument("--idemix-key-folder", default=None, help="default: the idemix/ subfolder of the key folder")
        parser.add_argument("--no-idemix", action="store_true", help="only the EU signer's keys")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = key_folder_from_environment(options["key_folder"])
        created = generate_signer_keys(folder, now=datetime.now(UTC))
        for usage, key in load_signer_keys(folder).items():
            state = "created" if usage in created else "kept"
            self.stdout.write(f"{usage}: kid {key.kid.hex()} ({state}) in {folder}")
        if options["no_idemix"]:
            return
        idemix_folder = idemix_key_folder(folder, options["idemix_key_folder"])
        started = time.monotonic()
        made = generate_idemix_keys(idemix_folder, progress=self._progress)
        public, secret = load_idemix_keys(idemix_folder)
        problems = idemix_keys.validate_key_pair(public, secret)
        state = f"created in {time.monotonic() - started:.1f} s" if made else "kept"
        self.stdout.write(
            f"idemix: {public.n.bit_length()}-bit modulus, {len(public.r)} bases ({state}) in {idemix_folder}"
            + ("" if not problems else f"; INVALID: {'; '.join(problems)}")
        )

    def _progress(self, stage: str, count: int) -> None:
        if stage == "safe prime found":
            self.stdout.write(f"idemix: safe prime found after {count} candidates")
        elif stage == "safe prime candidates" and count % 5000 == 0:
            self.stdout.write(f"idemix: {count} safe prime candidates tried ...")
        elif stage == "bases" and count % 4 == 0:
            self.stdout.write(f"idemix: {count} bases")
        self.stdout.flush()
