"""Tests for events/decoding/cms.py (events.md §2.2; access-tokens.md §5; decisions a, q, s)."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import json5
import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.testing.reference import REFERENCE as SHARED_REFERENCE
from devtools.testprovider import TestSigner, create_test_ca
from events.decoding.cms import (
    CertificateEntry,
    ProviderTrust,
    SignatureError,
    load_trust_anchors,
    verify_detached_signature,
)

REFERENCE = SHARED_REFERENCE / "events"
ANCHORS_FILE = Path(__file__).resolve().parents[3] / "events" / "resources" / "cms-trust-anchors.pem"
SAMPLE_NOW = datetime(2021, 6, 1, tzinfo=UTC)
SAMPLE_SIGNING_TIME = datetime(2021, 5, 29, 20, 2, 25, tzinfo=UTC)
SKEW = 300

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIGNED = NOW - timedelta(hours=1)
CERT_FROM = datetime(2024, 1, 1, tzinfo=UTC)
CERT_UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
PAYLOAD = json.dumps({"protocolVersion": "3.0", "providerIdentifier": "ZZZ", "status": "complete"}).encode()


# ---------------------------------------------------------------- helpers and fixtures


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


def provider(*entries: CertificateEntry, identifier: str = "ZZZ") -> ProviderTrust:
    return ProviderTrust(identifier=identifier, events_accepted=True, certificates=entries)


def pinned(certificate: x509.Certificate, status: str = "active", retired_at: datetime | None = None):
    return CertificateEntry(der=der(certificate), match="pinned", status=status, retired_at=retired_at)


def identity(certificate: x509.Certificate, status: str = "active", retired_at: datetime | None = None):
    return CertificateEntry(der=der(certificate), match="identity", status=status, retired_at=retired_at)


def verify(payload, signature, trust, *, anchors=(), now=NOW):
    verify_detached_signature(payload, signature, provider=trust, trust_anchors=anchors, now=now, skew_seconds=SKEW)


def rejected(payload, signature, trust, *, anchors=(), now=NOW) -> str:
    with pytest.raises(SignatureError) as info:
        verify(payload, signature, trust, anchors=anchors, now=now)
    return str(info.value)


@pytest.fixture(scope="module")
def sample():
    blobs = json5.loads((REFERENCE / "events1.json5").read_text())
    chain = x509.load_pem_x509_certificates((REFERENCE / "events1-signer-chain.pem").read_bytes())
    return blobs, chain


@pytest.fixture(scope="module")
def bundled_anchors():
    return load_trust_anchors(ANCHORS_FILE.read_bytes())


@pytest.fixture(scope="module")
def ca():
    return create_test_ca(not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2040, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def other_ca():
    return create_test_ca("Other Root CA", not_before=datetime(2020, 1, 1, tzinfo=UTC))


def issue(authority, common_name="Test Provider", **kw) -> TestSigner:
    kw.setdefault("not_before", CERT_FROM)
    kw.setdefault("not_after", CERT_UNTIL)
    return authority.issue_signer(common_name, **kw)


def intermediate_of(authority, common_name="Test Provider Intermediate CA", **kw):
    kw.setdefault("not_before", CERT_FROM)
    kw.setdefault("not_after", CERT_UNTIL)
    return authority.issue_intermediate(common_name, **kw)


@pytest.fixture(scope="module")
def signer(ca):
    return issue(ca)


@pytest.fixture(scope="module")
def rsa_signer(ca):
    return issue(ca, key_type="rsa")


# ---------------------------------------------------------------- the reference sample


def test_bundled_trust_anchor_is_the_ev_root(bundled_anchors, sample):
    _, chain = sample
    assert bundled_anchors == (chain[3],)
    assert "Staat der Nederlanden EV Root CA" in bundled_anchors[0].subject.rfc4514_string()


@pytest.mark.parametrize("index", [0, 1])
def test_sample_blob_verifies_with_pinned_leaf(sample, index):
    blobs, chain = sample
    verify(base64.b64decode(blobs[index]["payload"]), blobs[index]["signature"], provider(pinned(chain[0])), now=SAMPLE_NOW)


def test_sample_blob_verifies_with_identity_entry_under_the_ev_root(sample, bundled_anchors):
    blobs, chain = sample
    verify(
        base64.b64decode(blobs[0]["payload"]),
        blobs[0]["signature"],
        provider(identity(chain[0])),
        anchors=bundled_anchors,
        now=SAMPLE_NOW,
    )


def test_sample_identity_entry_without_trust_anchor_is_rejected(sample):
    blobs, chain = sample
    rejected(base64.b64decode(blobs[0]["payload"]), blobs[0]["signature"], provider(identity(chain[0])), now=SAMPLE_NOW)


def test_sample_blob_line_wrapped_signature_verifies(sample):
    blobs, chain = sample
    text = blobs[0]["signature"]
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    verify(base64.b64decode(blobs[0]["payload"]), wrapped, provider(pinned(chain[0])), now=SAMPLE_NOW)


def test_sample_blob_with_placeholder_signature_is_rejected(sample, bundled_anchors):
    blobs, chain = sample
    rejected(
        base64.b64decode(blobs[2]["payload"]),
        blobs[2]["signature"],
        provider(pinned(chain[0]), identity(chain[0])),
        anchors=bundled_anchors,
        now=SAMPLE_NOW,
    )


def test_sample_payload_changed_after_signing_is_rejected(sample):
    blobs, chain = sample
    payload = base64.b64decode(blobs[0]["payload"]).replace(b"ZZZ", b"ZZY", 1)
    assert rejected(payload, blobs[0]["signature"], provider(pinned(chain[0])), now=SAMPLE_NOW) == (
        "messageDigest does not match the payload"
    )


def test_sample_base64_text_instead_of_decoded_payload_is_rejected(sample):
    blobs, chain = sample
    rejected(blobs[0]["payload"].encode(), blobs[0]["signature"], provider(pinned(chain[0])), now=SAMPLE_NOW)


def test_sample_blob_for_a_provider_with_another_certificate_is_rejected(sample, signer):
    blobs, _ = sample
    rejected(base64.b64decode(blobs[0]["payload"]), blobs[0]["signature"], provider(pinned(signer.cert)), now=SAMPLE_NOW)


def test_sample_blob_checks_validity_at_signing_time_not_now(sample):
    blobs, chain = sample
    # All certificates of the chain expired in 2022: a re-submission years later still verifies.
    verify(
        base64.b64decode(blobs[0]["payload"]),
        blobs[0]["signature"],
        provider(pinned(chain[0])),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_sample_signing_time_after_now_plus_skew_is_rejected(sample):
    blobs, chain = sample
    now = SAMPLE_SIGNING_TIME - timedelta(seconds=SKEW + 1)
    assert (
        rejected(base64.b64decode(blobs[0]["payload"]), blobs[0]["signature"], provider(pinned(chain[0])), now=now)
        == "signing time is in the future"
    )


@pytest.mark.parametrize(
    ("status", "retired_at", "accepted"),
    [
        ("retired", SAMPLE_SIGNING_TIME + timedelta(seconds=1), True),
        ("retired", SAMPLE_SIGNING_TIME, False),
        ("retired", None, False),
        ("revoked", None, False),
    ],
)
def test_sample_entry_status(sample, status, retired_at, accepted):
    blobs, chain = sample
    trust = provider(pinned(chain[0], status, retired_at))
    payload = base64.b64decode(blobs[0]["payload"])
    if accepted:
        verify(payload, blobs[0]["signature"], trust, now=SAMPLE_NOW)
    else:
        rejected(payload, blobs[0]["signature"], trust, now=SAMPLE_NOW)


def test_sample_revoked_entry_overrides_identity_match(sample, bundled_anchors):
    blobs, chain = sample
    trust = provider(identity(chain[0]), pinned(chain[0], "revoked"))
    assert (
        rejected(base64.b64decode(blobs[0]["payload"]), blobs[0]["signature"], trust, anchors=bundled_anchors, now=SAMPLE_NOW)
        == "signer certificate is revoked"
    )


# ---------------------------------------------------------------- test provider: what is accepted


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_standard_builder_signature_verifies(ca, key_type):
    # The PKCS#7 builder stamps the current time, so this test runs on the wall clock.
    fresh = ca.issue_signer(key_type=key_type)
    now = datetime.now(UTC)
    verify(PAYLOAD, fresh.sign(PAYLOAD), provider(pinned(fresh.cert)), now=now)
    verify(PAYLOAD, fresh.sign(PAYLOAD), provider(identity(fresh.cert)), anchors=[ca.cert], now=now)


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_ecdsa_signature_verifies(signer, digest):
    verify(PAYLOAD, signer.sign(PAYLOAD, signing_time=SIGNED, digest=digest), provider(pinned(signer.cert)))


@pytest.mark.parametrize("digest", ["sha256", "sha512"])
def test_rsa_pkcs1_signature_verifies(rsa_signer, digest):
    verify(PAYLOAD, rsa_signer.sign(PAYLOAD, signing_time=SIGNED, digest=digest), provider(pinned(rsa_signer.cert)))


@pytest.mark.parametrize("digest", ["sha256", "sha384"])
def test_rsa_pss_signature_verifies(rsa_signer, ca, digest):
    signature = rsa_signer.sign(PAYLOAD, signing_time=SIGNED, pss=True, digest=digest)
    verify(PAYLOAD, signature, provider(identity(rsa_signer.cert)), anchors=[ca.cert])


def test_rsa_pss_with_key_named_rsassa_pss_verifies(ca):
    pss_signer = issue(ca, pss_public_key=True)
    signature = pss_signer.sign(PAYLOAD, signing_time=SIGNED, pss=True)
    verify(PAYLOAD, signature, provider(identity(pss_signer.cert)), anchors=[ca.cert])


def test_signature_without_signed_attributes_verifies_at_now(rsa_signer, signer):
    for s in (rsa_signer, signer):
        verify(PAYLOAD, s.sign(PAYLOAD, with_attributes=False), provider(pinned(s.cert)))


def test_signature_without_signed_attributes_checks_validity_now(signer):
    signature = signer.sign(PAYLOAD, with_attributes=False)
    rejected(PAYLOAD, signature, provider(pinned(signer.cert)), now=CERT_UNTIL + timedelta(days=1))


def test_signer_found_by_subject_key_identifier(signer, ca):
    signature = signer.sign(PAYLOAD, signing_time=SIGNED, sid="subject_key_identifier")
    verify(PAYLOAD, signature, provider(identity(signer.cert)), anchors=[ca.cert])


def test_pinned_signer_certificate_not_embedded_is_found_among_registered(signer):
    signature = signer.sign(PAYLOAD, signing_time=SIGNED, certificates=())
    verify(PAYLOAD, signature, provider(pinned(signer.cert)))


def test_identity_entry_accepts_renewed_certificate_with_same_name_and_issuer(ca, signer):
    renewed = issue(ca, not_before=NOW - timedelta(days=2), not_after=NOW + timedelta(days=300))
    verify(PAYLOAD, renewed.sign(PAYLOAD, signing_time=SIGNED), provider(identity(signer.cert)), anchors=[ca.cert])


def test_identity_entry_through_intermediate_verifies(ca):
    intermediate = intermediate_of(ca, path_length=0)
    leaf = issue(intermediate)
    verify(PAYLOAD, leaf.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf.cert)), anchors=[ca.cert])


def test_leaf_without_key_usage_is_accepted_for_identity(ca):
    leaf = issue(ca, key_usage=None)
    verify(PAYLOAD, leaf.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf.cert)), anchors=[ca.cert])


def test_one_good_signer_info_among_bad_ones_is_enough(signer, rsa_signer):
    good = asn1_cms.ContentInfo.load(base64.b64decode(signer.sign(PAYLOAD, signing_time=SIGNED)))
    bad = asn1_cms.ContentInfo.load(base64.b64decode(rsa_signer.sign(PAYLOAD, signing_time=SIGNED)))
    combined = bad.copy()
    combined["content"]["signer_infos"] = [bad["content"]["signer_infos"][0], good["content"]["signer_infos"][0]]
    combined["content"]["certificates"] = [*bad["content"]["certificates"], *good["content"]["certificates"]]
    signature = base64.b64encode(combined.dump(force=True)).decode()
    verify(PAYLOAD, signature, provider(pinned(signer.cert)))
    rejected(PAYLOAD, signature, provider(pinned(signer.cert, "revoked"), pinned(rsa_signer.cert, "revoked")))


# ---------------------------------------------------------------- test provider: what is rejected


def test_signature_from_unregistered_certificate_is_rejected(ca, signer):
    stranger = issue(ca, "Someone Else")
    assert (
        rejected(PAYLOAD, stranger.sign(PAYLOAD, signing_time=SIGNED), provider(pinned(signer.cert)), anchors=[ca.cert])
        == "signer certificate not registered for the provider"
    )


def test_valid_signature_of_another_providers_certificate_is_rejected(ca, signer):
    other = issue(ca, "Other Provider")
    providers = {
        "AAA": provider(pinned(signer.cert), identifier="AAA"),
        "BBB": provider(identity(other.cert), identifier="BBB"),
    }
    signature = other.sign(PAYLOAD, signing_time=SIGNED)
    verify(PAYLOAD, signature, providers["BBB"], anchors=[ca.cert])
    rejected(PAYLOAD, signature, providers["AAA"], anchors=[ca.cert])


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [(SIGNED + timedelta(minutes=1), CERT_UNTIL), (CERT_FROM, SIGNED - timedelta(minutes=1))],
)
def test_certificate_outside_validity_at_signing_time_is_rejected(ca, not_before, not_after):
    leaf = issue(ca, not_before=not_before, not_after=not_after)
    signature = leaf.sign(PAYLOAD, signing_time=SIGNED)
    for trust in (provider(pinned(leaf.cert)), provider(identity(leaf.cert))):
        assert rejected(PAYLOAD, signature, trust, anchors=[ca.cert]) == ("signer certificate not valid at signing time")


def test_intermediate_outside_validity_at_signing_time_is_rejected(ca):
    intermediate = intermediate_of(ca, not_after=SIGNED - timedelta(seconds=1))
    leaf = issue(intermediate)
    rejected(PAYLOAD, leaf.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf.cert)), anchors=[ca.cert])


def test_missing_intermediate_is_rejected(ca):
    intermediate = intermediate_of(ca)
    leaf = issue(intermediate)
    signature = leaf.sign(PAYLOAD, signing_time=SIGNED, certificates=(leaf.cert, ca.cert))
    rejected(PAYLOAD, signature, provider(identity(leaf.cert)), anchors=[ca.cert])


def test_path_length_constraint_is_honoured(ca):
    first = intermediate_of(ca, "First Intermediate", path_length=0)
    second = intermediate_of(first, "Second Intermediate", path_length=None)
    leaf = issue(second)
    rejected(PAYLOAD, leaf.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf.cert)), anchors=[ca.cert])
    relaxed = intermediate_of(ca, "First Intermediate", path_length=1)
    second_ok = intermediate_of(relaxed, "Second Intermediate", path_length=None)
    leaf_ok = issue(second_ok)
    verify(PAYLOAD, leaf_ok.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf_ok.cert)), anchors=[ca.cert])


def test_embedded_content_is_rejected(signer):
    signature = signer.sign(PAYLOAD, signing_time=SIGNED, embed_content=True)
    assert rejected(PAYLOAD, signature, provider(pinned(signer.cert))) == "signature is not detached"


@pytest.mark.parametrize(
    ("status", "retired_at", "accepted"),
    [
        ("active", None, True),
        ("retired", SIGNED + timedelta(seconds=1), True),
        ("retired", SIGNED, False),
        ("retired", SIGNED - timedelta(days=1), False),
        ("revoked", None, False),
    ],
)
@pytest.mark.parametrize("entry", [pinned, identity])
def test_entry_status_decides_at_signing_time(ca, signer, entry, status, retired_at, accepted):
    signature = signer.sign(PAYLOAD, signing_time=SIGNED)
    trust = provider(entry(signer.cert, status, retired_at))
    if accepted:
        verify(PAYLOAD, signature, trust, anchors=[ca.cert])
    else:
        rejected(PAYLOAD, signature, trust, anchors=[ca.cert])


def test_revoked_entry_overrides_identity_match(ca, signer):
    renewed = issue(ca)
    signature = renewed.sign(PAYLOAD, signing_time=SIGNED)
    verify(PAYLOAD, signature, provider(identity(signer.cert)), anchors=[ca.cert])
    assert (
        rejected(PAYLOAD, signature, provider(identity(signer.cert), pinned(renewed.cert, "revoked")), anchors=[ca.cert])
        == "signer certificate is revoked"
    )


def test_ca_certificate_as_signer_is_rejected_for_identity(ca):
    ca_signer = issue(ca, ca=True)
    signature = ca_signer.sign(PAYLOAD, signing_time=SIGNED)
    assert rejected(PAYLOAD, signature, provider(identity(ca_signer.cert)), anchors=[ca.cert]) == (
        "signer certificate is a CA certificate"
    )
    verify(PAYLOAD, signature, provider(pinned(ca_signer.cert)))  # pinned: no CA checks (events.md §2.2)


def test_key_usage_without_digital_signature_is_rejected_for_identity(ca):
    usage = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    leaf = issue(ca, key_usage=usage)
    signature = leaf.sign(PAYLOAD, signing_time=SIGNED)
    assert rejected(PAYLOAD, signature, provider(identity(leaf.cert)), anchors=[ca.cert]) == (
        "signer key usage does not allow digitalSignature"
    )
    verify(PAYLOAD, signature, provider(pinned(leaf.cert)))  # pinned: no key-usage check


def test_identity_entry_with_other_common_name_is_rejected(ca, signer):
    other_name = issue(ca, "Test Provider 2")
    rejected(PAYLOAD, other_name.sign(PAYLOAD, signing_time=SIGNED), provider(identity(signer.cert)), anchors=[ca.cert])


def test_identity_entry_with_other_authority_key_identifier_is_rejected(ca, other_ca, signer):
    same_name_other_ca = issue(other_ca)
    signature = same_name_other_ca.sign(PAYLOAD, signing_time=SIGNED)
    rejected(PAYLOAD, signature, provider(identity(signer.cert)), anchors=[ca.cert, other_ca.cert])
    verify(PAYLOAD, signature, provider(identity(same_name_other_ca.cert)), anchors=[ca.cert, other_ca.cert])


def test_identity_chain_to_an_untrusted_root_is_rejected(ca, other_ca):
    leaf = issue(other_ca)
    rejected(PAYLOAD, leaf.sign(PAYLOAD, signing_time=SIGNED), provider(identity(leaf.cert)), anchors=[ca.cert])


def test_self_signed_look_alike_root_is_not_a_trust_anchor(ca):
    impostor = create_test_ca(
        ca.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value,
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
    )
    leaf = issue(impostor)
    signature = leaf.sign(PAYLOAD, signing_time=SIGNED)
    assert rejected(PAYLOAD, signature, provider(identity(leaf.cert)), anchors=[ca.cert]) == (
        "signer certificate does not chain to a trust anchor"
    )
    verify(PAYLOAD, signature, provider(identity(leaf.cert)), anchors=[impostor.cert])


@pytest.mark.parametrize(("offset", "accepted"), [(SKEW - 1, True), (SKEW, True), (SKEW + 1, False)])
def test_signing_time_skew(signer, offset, accepted):
    signature = signer.sign(PAYLOAD, signing_time=NOW + timedelta(seconds=offset))
    if accepted:
        verify(PAYLOAD, signature, provider(pinned(signer.cert)))
    else:
        assert rejected(PAYLOAD, signature, provider(pinned(signer.cert))) == "signing time is in the future"


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_digest_is_refused(rsa_signer, digest):
    signature = rsa_signer.sign(PAYLOAD, signing_time=SIGNED, digest=digest)
    assert rejected(PAYLOAD, signature, provider(pinned(rsa_signer.cert))) == "digest algorithm not accepted"


def test_signature_by_other_key_for_same_certificate_is_rejected(ca, signer):
    forger = TestSigner(cert=signer.cert, key=issue(ca).key, chain=signer.chain)
    assert rejected(PAYLOAD, forger.sign(PAYLOAD, signing_time=SIGNED), provider(pinned(signer.cert))) == (
        "signature does not verify"
    )


def test_error_message_carries_no_payload_data(signer):
    secret = b'{"holder": {"firstName": "Geheim"}}'
    message = rejected(secret, signer.sign(PAYLOAD, signing_time=SIGNED), provider(pinned(signer.cert)))
    assert "Geheim" not in message and len(message) < 80


# ---------------------------------------------------------------- garbage never escapes as another exception


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "tbd create valid signatures for our data.",
        "====",
        base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
        base64.b64encode(asn1_cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()).decode(),
        base64.b64encode(b"\x30\x80\x00\x00").decode(),
    ],
)
def test_garbage_signature_is_rejected(signer, signature):
    rejected(PAYLOAD, signature, provider(pinned(signer.cert)))


def test_signed_data_without_signer_info_is_rejected(signer):
    info = asn1_cms.ContentInfo.load(base64.b64decode(signer.sign(PAYLOAD, signing_time=SIGNED)))
    info["content"]["signer_infos"] = []
    rejected(PAYLOAD, base64.b64encode(info.dump(force=True)).decode(), provider(pinned(signer.cert)))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_give_signature_error(signer, data):
    with pytest.raises(SignatureError):
        verify(PAYLOAD, base64.b64encode(data).decode(), provider(pinned(signer.cert)))


@settings(max_examples=100)
@given(text=st.text(max_size=200))
def test_random_text_gives_signature_error(text):
    with pytest.raises(SignatureError):
        verify(PAYLOAD, text, provider())


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_sample_signature_never_raises_another_exception(sample, bundled_anchors, position, value):
    blobs, chain = sample
    raw = bytearray(base64.b64decode(blobs[0]["signature"]))
    raw[position % len(raw)] = value
    trust = provider(pinned(chain[0]), identity(chain[0]))
    try:
        verify(
            base64.b64decode(blobs[0]["payload"]),
            base64.b64encode(bytes(raw)).decode(),
            trust,
            anchors=bundled_anchors,
            now=SAMPLE_NOW,
        )
    except SignatureError:
        pass


def test_truncated_sample_signatures_are_rejected(sample):
    blobs, chain = sample
    raw = base64.b64decode(blobs[0]["signature"])
    for length in range(0, len(raw), max(1, len(raw) // 200)):
        rejected(
            base64.b64decode(blobs[0]["payload"]),
            base64.b64encode(raw[:length]).decode(),
            provider(pinned(chain[0])),
            now=SAMPLE_NOW,
        )


def test_random_signer_info_bytes_are_rejected(signer):
    info = asn1_cms.ContentInfo.load(base64.b64decode(signer.sign(PAYLOAD, signing_time=SIGNED)))
    info["content"]["signer_infos"][0]["signature"] = os.urandom(64)
    rejected(PAYLOAD, base64.b64encode(info.dump(force=True)).decode(), provider(pinned(signer.cert)))


def test_present_but_empty_signed_attributes_are_rejected(signer):
    info = asn1_cms.ContentInfo.load(base64.b64decode(signer.sign(PAYLOAD, with_attributes=False)))
    verify(PAYLOAD, base64.b64encode(info.dump()).decode(), provider(pinned(signer.cert)))
    info["content"]["signer_infos"][0]["signed_attrs"] = []
    signature = base64.b64encode(info.dump(force=True)).decode()
    assert rejected(PAYLOAD, signature, provider(pinned(signer.cert))) == "contentType attribute is not id-data"


def test_provider_not_accepting_events_is_rejected(signer):
    trust = ProviderTrust(identifier="ZZZ", events_accepted=False, certificates=(pinned(signer.cert),))
    rejected(PAYLOAD, signer.sign(PAYLOAD, signing_time=SIGNED), trust)


def test_naive_now_is_a_programming_error(signer):
    with pytest.raises(ValueError):
        verify(
            PAYLOAD,
            signer.sign(PAYLOAD, signing_time=SIGNED),
            provider(pinned(signer.cert)),
            now=NOW.replace(tzinfo=None),
        )
