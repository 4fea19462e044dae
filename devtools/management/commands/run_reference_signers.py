"""Run the reference EU signer and the reference domestic (Idemix) signer (signers.md §2.7, §3)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from devtools.reference.server import add_signer_arguments, options_from_arguments, run


class Command(BaseCommand):
    help = (
        "Run the reference signers in one process: a real HCERT EU signer and a real Idemix domestic "
        "signer (its issuing in a process pool, its e primes from a background process)."
    )

    def add_arguments(self, parser) -> None:
        add_signer_arguments(parser)

    def handle(self, *args, **options) -> None:
        def announce(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        run(options_from_arguments(options), announce=announce)
