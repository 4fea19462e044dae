"""`manage.py create_print_token <client>` (api.md §6, §8)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing.services import print_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a print-portal client. The token is printed once, alone on the last "
        "line of standard output; only a hash is stored, so it cannot be shown again. The portal sends "
        "it as 'Authorization: Token <key>'. Revoke with revoke_print_token or in the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", help="name of the print-portal client, e.g. 'print portal production'")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token, key = print_token_create(client_name=options["client"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"created token {token.key_prefix}… for client {token.client_name!r}; store it now:")
        self.stdout.write(key)
