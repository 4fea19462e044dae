"""`manage.py revoke_print_token` (api.md §6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing.models import PrintToken
from signing.services import print_token_revoke


class Command(BaseCommand):
    help = (
        "Revoke print-portal API tokens: with --prefix the one whose key starts with PREFIX (its first 8 "
        "characters, as listed in the admin; write --prefix=-abc if it starts with a dash), or with --client "
        "every active token of a client. A revoked token stops working within seconds and cannot be re-activated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--prefix", help="the first 8 characters of the token")
        target.add_argument("--client", help="revoke every active token of this client")

    def handle(self, *args: Any, **options: Any) -> None:
        active = PrintToken.objects.filter(revoked_at__isnull=True)
        if options["client"]:
            tokens = list(active.filter(client_name=options["client"]))
        else:
            tokens = list(active.filter(key_prefix=options["prefix"][:8]))
            if len(tokens) > 1:
                raise CommandError("several active tokens have this prefix; revoke with --client or in the admin")
        if not tokens:
            raise CommandError("no active token matches")
        for token in tokens:
            print_token_revoke(token=token)
            self.stdout.write(f"revoked {token.key_prefix}… of client {token.client_name!r}")
