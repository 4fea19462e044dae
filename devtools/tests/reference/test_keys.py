"""Key generation and loading of the reference signers (signers.md §2.7, §3.3 step 1)."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from devtools.reference.hcert import KEY_USAGES, kid_of
from devtools.reference.keys import (
    KEY_USAGE_OIDS,
    KeyFolderError,
    generate_signer_keys,
    key_folder_from_environment,
    load_signer_keys,
)
from devtools.tests.reference.conftest import TEST_DSC_FOLDER

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_generates_one_key_per_usage_with_private_files_0600(tmp_path):
    assert generate_signer_keys(tmp_path, now=NOW) == list(KEY_USAGES)
    for usage in KEY_USAGES:
        assert stat.S_IMODE((tmp_path / f"{usage}.key.pem").stat().st_mode) == 0o600
    keys = load_signer_keys(tmp_path)
    assert len({key.kid for key in keys.values()}) == 3


def test_generated_certificates_carry_the_usage_oid(tmp_path):
    generate_signer_keys(tmp_path, now=NOW)
    for usage, key in load_signer_keys(tmp_path).items():
        eku = key.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert [oid.dotted_string for oid in eku] == [KEY_USAGE_OIDS[usage]]
        assert key.kid == kid_of(key.certificate)
        assert key.private_key.curve.name == "secp256r1"


def test_generation_is_idempotent(tmp_path):
    generate_signer_keys(tmp_path, now=NOW)
    before = {usage: key.kid for usage, key in load_signer_keys(tmp_path).items()}
    assert generate_signer_keys(tmp_path, now=NOW) == []
    assert {usage: key.kid for usage, key in load_signer_keys(tmp_path).items()} == before


def test_a_single_pair_serves_every_usage():
    keys = load_signer_keys(TEST_DSC_FOLDER)
    assert {usage: key.kid.hex() for usage, key in keys.items()} == dict.fromkeys(KEY_USAGES, "d6a9d5d2d6d1dcc4")


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(KeyFolderError):
        load_signer_keys(tmp_path)


def test_key_folder_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EU_SIGNER_KEY_FOLDER", str(tmp_path / "env"))
    assert key_folder_from_environment(None) == tmp_path / "env"
    assert key_folder_from_environment(str(tmp_path / "option")) == tmp_path / "option"
    monkeypatch.delenv("EU_SIGNER_KEY_FOLDER")
    assert key_folder_from_environment(None).parts[-2:] == (".dev", "signer-keys")


def test_the_domestic_signers_key_folder(tmp_path, monkeypatch):
    from devtools.reference import keys as reference_keys

    own = tmp_path / "idemix"
    # given: as given; nothing of its own: the TEST ONLY pair; a pair of its own: that one
    assert reference_keys.signer_idemix_key_folder(tmp_path, "/some/where") == Path("/some/where")
    assert reference_keys.signer_idemix_key_folder(tmp_path) == reference_keys.TEST_IDEMIX_KEY_FOLDER
    own.mkdir()
    for name in ("pk.xml", "sk.xml"):
        (own / name).write_bytes((reference_keys.TEST_IDEMIX_KEY_FOLDER / name).read_bytes())
    assert reference_keys.signer_idemix_key_folder(tmp_path) == own
    # no reference data beside the checkout: its own folder, where the signer generates a pair
    monkeypatch.setattr(reference_keys, "TEST_IDEMIX_KEY_FOLDER", tmp_path / "absent")
    assert reference_keys.signer_idemix_key_folder(tmp_path / "elsewhere") == tmp_path / "elsewhere" / "idemix"


def test_load_idemix_keys_refuses_a_foreign_secret_key(tmp_path):
    from devtools.reference import keys as reference_keys
    from idemix import keys

    public, secret = reference_keys.load_idemix_keys(reference_keys.TEST_IDEMIX_KEY_FOLDER)
    (tmp_path / "pk.xml").write_text(keys.public_key_xml(dataclasses.replace(public, n=public.n + 2)))
    (tmp_path / "sk.xml").write_text(keys.secret_key_xml(secret))
    with pytest.raises(reference_keys.KeyFolderError, match="does not belong"):
        reference_keys.load_idemix_keys(tmp_path)
