"""Tests for devtools/testprovider.py: its signatures have the shape of events.md §2.1 and verify (§2.2)."""

import base64
import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from devtools.testprovider import create_test_ca, ensure_dev_test_provider, make_blob
from events.decoding.cms import (
    CertificateEntry,
    ProviderTrust,
    SignatureError,
    verify_detached_signature,
)

PAYLOAD = b'{"protocolVersion": "3.0", "providerIdentifier": "XXX"}'
SIGNED = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca():
    return create_test_ca(not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2040, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def signer(ca):
    until = datetime.now(UTC) + timedelta(days=365)
    return ca.issue_signer("Test Provider XXX", key_type="rsa", not_before=SIGNED - timedelta(days=1), not_after=until)


def parse(signature: str) -> asn1_cms.SignedData:
    info = asn1_cms.ContentInfo.load(base64.b64decode(signature))
    assert info["content_type"].native == "signed_data"
    return info["content"]


def trust(certificate: x509.Certificate, match: str = "pinned") -> ProviderTrust:
    entry = CertificateEntry(der=certificate.public_bytes(Encoding.DER), match=match, status="active")
    return ProviderTrust(identifier="XXX", events_accepted=True, certificates=(entry,))


def test_root_ca_is_self_signed_ca(ca):
    assert ca.cert.subject == ca.cert.issuer
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.cert.verify_directly_issued_by(ca.cert)


@pytest.mark.parametrize(("key_type", "key_class"), [("rsa", rsa.RSAPrivateKey), ("ec", ec.EllipticCurvePrivateKey)])
def test_issued_leaf_has_requested_key_name_and_issuer(ca, key_type, key_class):
    leaf = ca.issue_signer("Leaf CN", key_type=key_type)
    assert isinstance(leaf.key, key_class)
    assert leaf.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "Leaf CN"
    assert not leaf.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    leaf.cert.verify_directly_issued_by(ca.cert)
    assert leaf.chain == (leaf.cert, ca.cert)


def test_leaf_options_ca_flag_validity_and_no_key_usage(ca):
    start, end = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC)
    leaf = ca.issue_signer(ca=True, key_usage=None, not_before=start, not_after=end)
    assert leaf.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        leaf.cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert (leaf.cert.not_valid_before_utc, leaf.cert.not_valid_after_utc) == (start, end)


def test_intermediate_chain_is_embedded_leaf_first(ca):
    intermediate = ca.issue_intermediate(path_length=0)
    leaf = intermediate.issue_signer()
    assert leaf.chain == (leaf.cert, intermediate.cert, ca.cert)
    assert intermediate.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0


def test_default_signature_is_detached_with_the_sample_attributes(signer):
    signed_data = parse(signer.sign(PAYLOAD))
    assert signed_data["encap_content_info"]["content_type"].native == "data"
    assert signed_data["encap_content_info"]["content"].native is None
    signer_info = signed_data["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0].native for a in signer_info["signed_attrs"]}
    assert attributes["content_type"] == "data"
    assert attributes["message_digest"] == hashlib.sha256(PAYLOAD).digest()
    assert abs(attributes["signing_time"] - datetime.now(UTC)) < timedelta(minutes=5)
    assert len(signed_data["certificates"]) == 2


def test_hand_built_signature_carries_requested_signing_time_and_rsa_encryption(signer):
    signed_data = parse(signer.sign(PAYLOAD, signing_time=SIGNED))
    signer_info = signed_data["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0].native for a in signer_info["signed_attrs"]}
    assert attributes["signing_time"] == SIGNED
    assert signer_info["signature_algorithm"]["algorithm"].native == "rsassa_pkcs1v15"
    assert signer_info["sid"].name == "issuer_and_serial_number"


def test_options_shape_the_signature(signer):
    no_attributes = parse(signer.sign(PAYLOAD, with_attributes=False))["signer_infos"][0]
    assert not no_attributes["signed_attrs"].contents
    pss = parse(signer.sign(PAYLOAD, signing_time=SIGNED, pss=True))["signer_infos"][0]
    assert pss["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    embedded = parse(signer.sign(PAYLOAD, signing_time=SIGNED, embed_content=True))
    assert embedded["encap_content_info"]["content"].native == PAYLOAD
    ski = parse(signer.sign(PAYLOAD, signing_time=SIGNED, sid="subject_key_identifier"))["signer_infos"][0]
    assert ski["sid"].name == "subject_key_identifier"
    sha1 = parse(signer.sign(PAYLOAD, signing_time=SIGNED, digest="sha1"))["signer_infos"][0]
    assert sha1["digest_algorithm"]["algorithm"].native == "sha1"
    bare = parse(signer.sign(PAYLOAD, signing_time=SIGNED, certificates=()))
    assert not bare["certificates"]


def test_pss_needs_an_rsa_key(ca):
    with pytest.raises(ValueError):
        ca.issue_signer(key_type="ec").sign(PAYLOAD, pss=True)


def test_pss_public_key_certificate_names_the_key_rsassa_pss(ca):
    leaf = ca.issue_signer(pss_public_key=True)
    spki = asn1_x509.Certificate.load(leaf.der)["tbs_certificate"]["subject_public_key_info"]
    assert spki["algorithm"]["algorithm"].native == "rsassa_pss"
    leaf.cert.verify_directly_issued_by(ca.cert)


@pytest.mark.parametrize("match", ["pinned", "identity"])
def test_make_blob_verifies(ca, signer, match):
    blob = make_blob({"protocolVersion": "3.0", "providerIdentifier": "XXX"}, signer)
    payload = base64.b64decode(blob["payload"])
    assert json.loads(payload)["providerIdentifier"] == "XXX"
    verify_detached_signature(
        payload,
        blob["signature"],
        provider=trust(signer.cert, match),
        trust_anchors=[ca.cert],
        now=datetime.now(UTC),
        skew_seconds=300,
    )


def test_make_blob_of_bytes_signs_them_as_given(signer):
    blob = make_blob(PAYLOAD, signer, signing_time=SIGNED)
    assert base64.b64decode(blob["payload"]) == PAYLOAD
    verify_detached_signature(
        PAYLOAD, blob["signature"], provider=trust(signer.cert), trust_anchors=(), now=SIGNED, skew_seconds=300
    )
    with pytest.raises(SignatureError):
        verify_detached_signature(
            PAYLOAD + b" ",
            blob["signature"],
            provider=trust(signer.cert),
            trust_anchors=(),
            now=SIGNED,
            skew_seconds=300,
        )


def test_dev_test_provider_is_created_once_and_reloaded(tmp_path):
    folder = tmp_path / "dev-provider"
    first = ensure_dev_test_provider(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["ca-key.pem", "ca.pem", "signer-key.pem", "signer.pem"]
    assert stat.S_IMODE((folder / "signer-key.pem").stat().st_mode) == 0o600
    second = ensure_dev_test_provider(folder)
    assert second.cert == first.cert and second.chain == first.chain
    blob = make_blob(PAYLOAD, second)
    verify_detached_signature(
        PAYLOAD,
        blob["signature"],
        provider=trust(first.cert, "identity"),
        trust_anchors=[first.chain[-1]],
        now=datetime.now(UTC),
        skew_seconds=300,
    )
