"""The `generate_signer_keys` management command (run_reference_signers is exercised by conftest)."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import call_command

from devtools.reference.domestic_signer import build_signer
from devtools.reference.keys import load_idemix_keys
from idemix import keys, verifier
from idemix.encoding import ATTRIBUTE_NAMES
from idemix.primes import SyncPrimePool


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One run of the command (a 2048-bit Idemix pair takes seconds): (folder, its output)."""
    folder = tmp_path_factory.mktemp("generated-keys")
    output = io.StringIO()
    call_command("generate_signer_keys", "--key-folder", str(folder), stdout=output)
    return folder, output.getvalue()


def test_generate_signer_keys_creates_then_keeps(generated):
    tmp_path, text = generated
    assert text.count("(created)") == 3
    assert stat.S_IMODE((tmp_path / "vaccination.key.pem").stat().st_mode) == 0o600
    # the domestic signer's Idemix pair, with progress, valid
    assert text.count("idemix: safe prime found after") == 2 and "idemix: 12 bases" in text
    assert "idemix: 2048-bit modulus, 12 bases (created in " in text and "INVALID" not in text
    assert stat.S_IMODE((tmp_path / "idemix" / "sk.xml").stat().st_mode) == 0o600
    public, secret = load_idemix_keys(tmp_path / "idemix")
    assert keys.validate_key_pair(public, secret) == []
    assert (public.n.bit_length(), len(public.r)) == (2048, 12)
    output = io.StringIO()
    call_command("generate_signer_keys", "--key-folder", str(tmp_path), stdout=output)
    assert output.getvalue().count("(kept)") == 4
    assert load_idemix_keys(tmp_path / "idemix")[0] == public


def test_a_generated_idemix_pair_issues_with_the_reference_signer(generated):
    """The pair `generate_signer_keys` writes is one the signer and the holder work with."""
    public, secret = load_idemix_keys(generated[0] / "idemix")
    routes = build_signer("DEV-KEY-1", public, secret, SyncPrimePool())
    values = dict.fromkeys(ATTRIBUTE_NAMES[2], "1")
    answer = json.loads(routes.issue_static(json.dumps({"credentialAttributes": values, "credentialVersion": 2}).encode()))
    result = verifier.verify(answer["qr"], "3G", {"DEV-KEY-1": public}, verifier.VerifierConfig(), 3600)
    assert result.ok and result.credential is not None and result.credential.attributes == values


def test_generate_signer_keys_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EU_SIGNER_KEY_FOLDER", str(tmp_path / "from-env"))
    call_command("generate_signer_keys", "--no-idemix", stdout=io.StringIO())
    assert (tmp_path / "from-env" / "recovery.cert.pem").exists()
    assert not (tmp_path / "from-env" / "idemix").exists()
