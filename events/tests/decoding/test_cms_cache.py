"""The cache of verified provider signatures (issue "Performance"; events/decoding/cms.py): a
re-submitted blob is not verified again, and a new provider-trust snapshot (a certificate
retired or revoked) or a request clock outside the validity of the accepting path is never
answered from the cache. Counts verifications; nothing is timed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.testprovider import create_test_ca
from events.decoding import cms
from events.decoding.cms import (
    CertificateEntry,
    ProviderTrust,
    SignatureError,
    VerificationCache,
    verify_detached_signature_cached,
)
from events.tests.decoding.test_cms import CERT_FROM, CERT_UNTIL, NOW, PAYLOAD, SIGNED, SKEW, der, issue

SECOND_PAYLOAD = PAYLOAD.replace(b"complete", b"pending")


@pytest.fixture(scope="module")
def ca():
    return create_test_ca(not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2040, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def signer(ca):
    return issue(ca)


@pytest.fixture
def counted(monkeypatch):
    """Counts the full verifications behind the cache."""
    calls: list[int] = []
    real = cms.verify_detached_signature

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cms, "verify_detached_signature", counting)
    return calls


def trust(*entries: CertificateEntry) -> ProviderTrust:
    return ProviderTrust(identifier="ZZZ", events_accepted=True, certificates=entries)


def entry(signer, match="pinned", status="active", retired_at=None) -> CertificateEntry:
    return CertificateEntry(der=der(signer.cert), match=match, status=status, retired_at=retired_at)


def check(cache, payload, signature, provider, *, anchors=(), now=NOW):
    return verify_detached_signature_cached(
        payload, signature, provider=provider, trust_anchors=anchors, now=now, skew_seconds=SKEW, cache=cache
    )


@pytest.mark.parametrize("match", ["pinned", "identity"])
def test_a_resubmitted_blob_is_verified_once(signer, ca, counted, match):
    cache = VerificationCache()
    provider = trust(entry(signer, match))
    signature = signer.sign(PAYLOAD, signing_time=SIGNED)
    for _ in range(5):
        verified = check(cache, PAYLOAD, signature, provider, anchors=[ca.cert])
    assert verified.signing_time == SIGNED
    assert len(counted) == 1 and (cache.hits, cache.misses) == (4, 1)

    # Another payload under the same signature, or another blob: verified (and refused) afresh.
    with pytest.raises(SignatureError):
        check(cache, SECOND_PAYLOAD, signature, provider, anchors=[ca.cert])
    assert len(counted) == 2


@pytest.mark.parametrize("match", ["pinned", "identity"])
@pytest.mark.parametrize(
    ("status", "retired_at"),
    [("revoked", None), ("retired", SIGNED - timedelta(days=1)), ("retired", SIGNED)],
)
def test_a_revoked_or_retired_certificate_stops_verifying_with_the_new_snapshot(signer, ca, counted, match, status, retired_at):
    cache = VerificationCache()
    signature = signer.sign(PAYLOAD, signing_time=SIGNED)
    check(cache, PAYLOAD, signature, trust(entry(signer, match)), anchors=[ca.cert])
    check(cache, PAYLOAD, signature, trust(entry(signer, match)), anchors=[ca.cert])  # an equal snapshot hits
    assert len(counted) == 1

    changed = trust(entry(signer, match, status, retired_at))
    with pytest.raises(SignatureError):
        check(cache, PAYLOAD, signature, changed, anchors=[ca.cert])
    with pytest.raises(SignatureError):
        check(cache, PAYLOAD, signature, changed, anchors=[ca.cert])
    assert len(counted) == 3  # failures are never cached


def test_a_certificate_retired_after_signing_still_verifies(signer, counted):
    cache = VerificationCache()
    signature = signer.sign(PAYLOAD, signing_time=SIGNED)
    retired = trust(entry(signer, status="retired", retired_at=SIGNED + timedelta(seconds=1)))
    check(cache, PAYLOAD, signature, retired)
    check(cache, PAYLOAD, signature, retired)
    assert len(counted) == 1


def test_without_signing_time_the_validity_is_checked_against_each_request_clock(signer, counted):
    cache = VerificationCache()
    signature = signer.sign(PAYLOAD, with_attributes=False)
    provider = trust(entry(signer))
    verified = check(cache, PAYLOAD, signature, provider)
    assert (verified.signing_time, verified.not_before, verified.not_after) == (None, CERT_FROM, CERT_UNTIL)
    check(cache, PAYLOAD, signature, provider, now=CERT_UNTIL)  # still valid: from the cache
    assert len(counted) == 1
    with pytest.raises(SignatureError, match="not valid at signing time"):
        check(cache, PAYLOAD, signature, provider, now=CERT_UNTIL + timedelta(seconds=1))
    assert len(counted) == 2


def test_a_signing_time_ahead_of_the_request_clock_is_refused_from_the_cache(signer, counted):
    cache = VerificationCache()
    signature = signer.sign(PAYLOAD, signing_time=SIGNED)
    provider = trust(entry(signer))
    check(cache, PAYLOAD, signature, provider)
    with pytest.raises(SignatureError, match="signing time is in the future"):
        check(cache, PAYLOAD, signature, provider, now=SIGNED - timedelta(seconds=SKEW + 1))
    assert len(counted) == 2


def test_identity_validity_is_that_of_the_whole_chain(ca, counted):
    intermediate = ca.issue_intermediate(
        "Short Intermediate", not_before=CERT_FROM, not_after=NOW + timedelta(days=1), path_length=0
    )
    leaf = intermediate.issue_signer("Test Provider", not_before=CERT_FROM, not_after=CERT_UNTIL)
    cache = VerificationCache()
    signature = leaf.sign(PAYLOAD, with_attributes=False)
    provider = trust(entry(leaf, "identity"))
    verified = check(cache, PAYLOAD, signature, provider, anchors=[ca.cert])
    assert verified.not_after == NOW + timedelta(days=1)
    with pytest.raises(SignatureError):
        check(cache, PAYLOAD, signature, provider, anchors=[ca.cert], now=NOW + timedelta(days=2))
    assert len(counted) == 2


def test_the_cache_is_bounded(signer):
    cache = VerificationCache(maxsize=3)
    provider = trust(entry(signer))
    signatures = [signer.sign(PAYLOAD, signing_time=SIGNED - timedelta(minutes=i)) for i in range(5)]
    for signature in signatures:
        check(cache, PAYLOAD, signature, provider)
    assert len(cache) == 3
    check(cache, PAYLOAD, signatures[-1], provider)
    assert cache.hits == 1
    check(cache, PAYLOAD, signatures[0], provider)  # evicted: verified again
    assert (cache.hits, cache.misses) == (1, 6)
