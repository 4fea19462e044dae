"""`manage.py create_print_token` and `revoke_print_token` (api.md §6, §8)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from signing.models import PrintToken
from signing.services import print_token_hash

pytestmark = pytest.mark.django_db


def test_create_print_token_prints_the_key_alone_on_the_last_line():
    out, err = StringIO(), StringIO()
    call_command("create_print_token", "print portal", stdout=out, stderr=err)
    key = out.getvalue().splitlines()[-1]
    assert key == key.strip() and len(key) >= 40
    token = PrintToken.objects.get()
    assert token.key_hash == print_token_hash(key) and token.client_name == "print portal"
    assert key not in err.getvalue()


def test_an_empty_client_name_fails():
    with pytest.raises(CommandError):
        call_command("create_print_token", "  ", stdout=StringIO(), stderr=StringIO())


def test_revoke_by_prefix_and_by_client():
    keys = []
    for _ in range(2):
        out = StringIO()
        call_command("create_print_token", "portal", stdout=out, stderr=StringIO())
        keys.append(out.getvalue().splitlines()[-1])
    call_command("revoke_print_token", f"--prefix={keys[0][:8]}", stdout=StringIO())
    assert PrintToken.objects.get(key_hash=print_token_hash(keys[0])).revoked_at is not None
    assert PrintToken.objects.get(key_hash=print_token_hash(keys[1])).revoked_at is None
    with pytest.raises(CommandError, match="no active token"):
        call_command("revoke_print_token", f"--prefix={keys[0][:8]}", stdout=StringIO())
    call_command("revoke_print_token", "--client", "portal", stdout=StringIO())
    assert not PrintToken.objects.filter(revoked_at__isnull=True).exists()


def test_a_prefix_starting_with_a_dash_can_be_revoked():
    PrintToken.objects.create(client_name="portal", key_prefix="-AbCdEfG", key_hash="0" * 64)
    call_command("revoke_print_token", "--prefix=-AbCdEfG", stdout=StringIO())
    assert PrintToken.objects.get().revoked_at is not None
