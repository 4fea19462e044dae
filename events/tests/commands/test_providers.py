"""`manage.py import_providers` and `manage.py provider_certificate` (access-tokens.md §5)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import CommandError, call_command

from devtools.testing.reference import REFERENCE
from devtools.testprovider import create_test_ca
from events.models import Provider, ProviderCertificate

pytestmark = pytest.mark.django_db

REFERENCE_PROVIDERS = REFERENCE / "keys" / "upstream" / "vaccinationproviders.json5"
SECRET = "735770c3112175051c99c3e2c3023ab7ed99f98c965c4e15a7c01da7370c5717"


@pytest.fixture(scope="module")
def pems():
    ca = create_test_ca()
    return [ca.issue_signer(f"Provider {i}").cert.public_bytes(Encoding.PEM).decode() for i in range(2)]


def provider_file(tmp_path: Path, pems: list[str], **extra) -> Path:
    entry = {
        "identifier": "ZZZ",
        "unomi_url": "https://zzz.example/unomi",
        "event_url": "https://zzz.example/events",
        "identity_hash_secret": SECRET,
        "bsn_cryptography": {
            "public_key": "pFWnrVkdUbKeU1B5Pj18AqKfE0wsbeUNH0Gh19Dz+EY=",
            "private_key": "ozFVVdY9QCcWwo2J9FZVTgXzDqGxfohynembzcyGJps=",
        },
        "cms": pems,
        **extra,
    }
    path = tmp_path / "providers.json5"
    path.write_text("// providers\n" + json.dumps([entry]))
    return path


def test_import_providers_upserts_and_reports(tmp_path, pems):
    out = StringIO()
    call_command("import_providers", str(provider_file(tmp_path, pems[:1])), stdout=out)
    assert "imported 1 provider(s), 1 new certificate entry" in out.getvalue()
    call_command("import_providers", str(provider_file(tmp_path, pems, tokens_enabled=False)), stdout=StringIO())
    provider = Provider.objects.get(identifier="ZZZ")
    assert provider.tokens_enabled is False and provider.certificates.count() == 2


def test_an_invalid_file_imports_nothing_and_names_the_entry_not_the_secret(tmp_path):
    """The upstream example has `"cms": "todo"`: accepting events without a certificate is invalid."""
    with pytest.raises(CommandError) as error:
        call_command("import_providers", str(REFERENCE_PROVIDERS), stdout=StringIO())
    assert "XXX" in str(error.value) and "nothing imported" in str(error.value)
    assert SECRET not in str(error.value)
    assert not Provider.objects.exists()


def test_a_missing_file_fails(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_providers", str(tmp_path / "absent.json5"))


def test_provider_certificate_adds_retires_and_revokes(tmp_path, pems):
    call_command("import_providers", str(provider_file(tmp_path, pems[:1])), stdout=StringIO())
    new = tmp_path / "new.pem"
    new.write_text(pems[1])
    out = StringIO()
    call_command("provider_certificate", "ZZZ", "--pem", str(new), stdout=out)
    assert "is pinned, active" in out.getvalue()
    old = tmp_path / "old.pem"
    old.write_text(pems[0])
    with pytest.raises(CommandError, match="needs --retired-at"):
        call_command("provider_certificate", "ZZZ", "--pem", str(old), "--status", "retired")
    call_command(
        "provider_certificate",
        "ZZZ",
        "--pem",
        str(old),
        "--status",
        "retired",
        "--retired-at",
        "2024-05-01T00:00:00Z",
        stdout=StringIO(),
    )
    entry = ProviderCertificate.objects.get(provider__identifier="ZZZ", subject_common_name="Provider 0")
    assert entry.status == "retired" and entry.retired_at.isoformat() == "2024-05-01T00:00:00+00:00"
    call_command("provider_certificate", "ZZZ", "--pem", str(old), "--status", "revoked", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot be re-activated"):
        call_command("provider_certificate", "ZZZ", "--pem", str(old), "--status", "active")


def test_provider_certificate_refuses_unknown_provider_and_bad_instants(tmp_path, pems):
    pem = tmp_path / "c.pem"
    pem.write_text(pems[0])
    with pytest.raises(CommandError, match="no provider"):
        call_command("provider_certificate", "NOPE", "--pem", str(pem))
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("provider_certificate", "NOPE", "--pem", str(pem), "--status", "retired", "--retired-at", "yesterday")


def test_import_providers_reads_the_configured_file_by_default(tmp_path, pems, settings):
    settings.EVENT_DATA_PROVIDERS_FILENAME = str(provider_file(tmp_path, pems[:1]))
    call_command("import_providers", stdout=StringIO())
    assert Provider.objects.get(identifier="ZZZ").certificates.count() == 1


def test_import_providers_without_file_or_setting_says_what_to_do(settings):
    settings.EVENT_DATA_PROVIDERS_FILENAME = ""
    with pytest.raises(CommandError, match="EVENT_DATA_PROVIDERS_FILENAME"):
        call_command("import_providers", stdout=StringIO())
