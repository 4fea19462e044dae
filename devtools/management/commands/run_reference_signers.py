"""Run the reference EU signer and the reference domestic (Idemix) signer (signers.md §2.7, §3)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.reference.server import add_signer_arguments, options_from_arguments, run


class Command(BaseCommand):
    help = (
        "Run the reference signers in one process: a real HCERT EU signer and a real Idemix domestic "
        "signer (its issuing in a process pool, its e primes from a background process)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_signer_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        def announce(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            run(options_from_arguments(options), announce=announce)
        except OSError as error:  # typically a port in use
            raise CommandError(f"cannot listen: {error.strerror or error}") from None
