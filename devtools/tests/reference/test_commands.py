"""The `generate_signer_keys` management command (run_reference_signers is exercised by conftest)."""

from __future__ import annotations

import io
import stat

from django.core.management import call_command


def test_generate_signer_keys_creates_then_keeps(tmp_path):
    output = io.StringIO()
    call_command("generate_signer_keys", "--key-folder", str(tmp_path), stdout=output)
    assert output.getvalue().count("(created)") == 3
    assert stat.S_IMODE((tmp_path / "vaccination.key.pem").stat().st_mode) == 0o600
    output = io.StringIO()
    call_command("generate_signer_keys", "--key-folder", str(tmp_path), stdout=output)
    assert output.getvalue().count("(kept)") == 3


def test_generate_signer_keys_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EU_SIGNER_KEY_FOLDER", str(tmp_path / "from-env"))
    call_command("generate_signer_keys", stdout=io.StringIO())
    assert (tmp_path / "from-env" / "recovery.cert.pem").exists()
