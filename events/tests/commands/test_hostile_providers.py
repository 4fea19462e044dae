"""Hostile input to the provider registry (issue "Reliability across processes"): JSON5 bombs in
`import_providers` and oversized or malformed certificates, through the command and through the
admin's certificate form. Every case ends in a clear error and nothing imported, never a crash."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import CommandError, call_command

from devtools.testprovider import create_test_ca
from events.admin.providers import ProviderCertificateForm
from events.models import Provider, ProviderCertificate
from events.tests.commands.test_providers import provider_file

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pem():
    return create_test_ca().issue_signer("Provider hostile").cert.public_bytes(Encoding.PEM).decode()


def pem_of(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"


def with_duplicate_extension(pem: str) -> str:
    """The same certificate with its first extension twice (RFC 5280 forbids it); re-encoded with
    asn1crypto, which does not check. cryptography loads it and fails when extensions are read."""
    cert = asn1_x509.Certificate.load(base64.b64decode("".join(pem.strip().splitlines()[1:-1])))
    extensions = cert["tbs_certificate"]["extensions"]
    extensions.append(extensions[0].copy())
    return pem_of(cert.dump(force=True))


def truncated(pem: str) -> str:
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    return pem_of(der[: len(der) // 2])


def private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


MALFORMED = {
    "oversized (a certificate with 100 KB of padding)": lambda pem: pem + "\n" + "A" * 100_000,
    "two certificates": lambda pem: pem + pem,
    "many certificates": lambda pem: pem * 8,
    "garbage between the markers": lambda pem: pem_of(b"\x30\x82\xff\xff" + b"\x00" * 500),
    "truncated DER": truncated,
    "duplicate extension": with_duplicate_extension,
    "non-ASCII": lambda pem: pem.replace("MII", "MÏI", 1),
    "a private key": lambda pem: private_key_pem(),
    "empty markers": lambda pem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
}
EXPECTED = {
    "oversized (a certificate with 100 KB of padding)": "is too large",
    "two certificates": "exactly one certificate",
    "many certificates": "exactly one certificate",
    "duplicate extension": "not a well-formed certificate",
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_certificate_in_the_file_imports_nothing(tmp_path, pem, case):
    bad = MALFORMED[case](pem)
    with pytest.raises(CommandError) as error:
        call_command("import_providers", str(provider_file(tmp_path, [pem, bad])), stdout=StringIO())
    message = str(error.value)
    assert "nothing imported" in message and "cms[1]" in message
    assert EXPECTED.get(case, "is not a PEM certificate") in message
    assert not Provider.objects.exists()


@pytest.mark.parametrize("case", MALFORMED)
def test_the_admin_form_refuses_a_malformed_certificate(pem, case):
    form = ProviderCertificateForm(data={"pem": MALFORMED[case](pem), "match": "pinned", "status": "active"})
    assert not form.is_valid()
    assert EXPECTED.get(case, "is not a PEM certificate") in form.errors["pem"][0]


def test_the_provider_certificate_command_refuses_an_oversized_certificate(tmp_path, pem):
    call_command("import_providers", str(provider_file(tmp_path, [pem])), stdout=StringIO())
    big = tmp_path / "big.pem"
    big.write_text(pem + "A" * 100_000)
    with pytest.raises(CommandError, match="too large"):
        call_command("provider_certificate", "ZZZ", "--pem", str(big), stdout=StringIO())
    assert ProviderCertificate.objects.count() == 1


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bomb.json5"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("depth", [100, 1000, 100_000])
def test_a_deeply_nested_json5_file_is_an_error_not_a_crash(tmp_path, depth):
    with pytest.raises(CommandError, match="nothing imported: the file is nested too deeply"):
        call_command("import_providers", write(tmp_path, "[" * depth + "]" * depth), stdout=StringIO())


def test_a_json5_file_over_the_size_limit_is_refused_unread(tmp_path, settings):
    settings.PROVIDER_FILE_MAX_BYTES = 100_000
    bomb = "[" + ",".join(["1"] * 60_000) + "]"  # 120 KB of tiny tokens: slow for the pure-Python parser
    with pytest.raises(CommandError, match=r"nothing imported: the file is too large \(120001 bytes; at most 100000\)"):
        call_command("import_providers", write(tmp_path, bomb), stdout=StringIO())


def test_the_size_limit_also_holds_for_text_given_directly(settings):
    from events.providers import ProviderImportError, providers_parse

    settings.PROVIDER_FILE_MAX_BYTES = 1000
    with pytest.raises(ProviderImportError, match="too large"):
        providers_parse("[" + " " * 2000 + "]")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1e999999]", "must be an object"),  # infinity: not an object
        ("[" + "9" * 5000 + "]", "not valid JSON5"),  # an integer past Python's digit limit
        (json.dumps([{"identifier": [[[["x"]]]]}]), "entry 0"),
        ('[{"identifier": "ZZZ", "cms": ' + json.dumps(["x"] * 5) + "}]", "entry 0 (ZZZ)"),
        ("\ufeff[", "not valid JSON5"),
        ("[" * 10 + "'unterminated", "not valid JSON5"),
    ],
)
def test_other_hostile_json5_gives_a_clear_error(tmp_path, text, message):
    with pytest.raises(CommandError) as error:
        call_command("import_providers", write(tmp_path, text), stdout=StringIO())
    assert "nothing imported" in str(error.value) and message in str(error.value)
