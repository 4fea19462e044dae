"""CMS detached-signature verification of a provider result (events.md §2.2 steps 2–3).

The caller has already looked up the provider and checked ``events_accepted`` (step 1). This
module decides whether the blob's ``signature`` is a detached CMS ``SignedData`` over the decoded
payload bytes, made by a certificate that the provider's certificate entries trust (decisions
a, q, s; access-tokens.md §5). ``asn1crypto`` parses the CMS structure; ``cryptography`` parses
X.509 and verifies the signatures. Every failure is a :class:`SignatureError` whose message is a
short reason that never contains payload or signature data.

Apps re-submit the same blobs, so successful verifications are cached
(:func:`verify_detached_signature_cached`, issue "Performance"): keyed by the SHA-256 of payload
and signature together with the provider's trust entries and the trust anchors themselves (so a
new provider-trust snapshot that retires or revokes a certificate misses the cache), bounded
(LRU), and holding only what the success depended on in time (:class:`Verified`): the signing
time and the validity window of the accepting path, re-checked against each request's clock.
Failures are not cached. Certificates are parsed once per DER (``_parse_certificate``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from common.base64rule import decode_base64

PINNED = "pinned"
IDENTITY = "identity"
ACTIVE = "active"
RETIRED = "retired"
REVOKED = "revoked"

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_MAX_CHAIN_INTERMEDIATES = 6
_MAX_CHAIN_VERIFICATIONS = 32
_MAX_EMBEDDED_CERTIFICATES = 32
_DER = Encoding.DER
_E = TypeVar("_E", bound=x509.ExtensionType)


@dataclass(frozen=True)
class CertificateEntry:
    """One ``cms`` certificate entry of a provider (access-tokens.md §5)."""

    der: bytes
    match: str  # "pinned" | "identity"
    status: str  # "active" | "retired" | "revoked"
    retired_at: datetime | None = None


@dataclass(frozen=True)
class ProviderTrust:
    """What signature verification needs to know about one provider (access-tokens.md §5)."""

    identifier: str
    events_accepted: bool
    certificates: tuple[CertificateEntry, ...]


class SignatureError(Exception):
    """The blob's signature is not acceptable (400 ``invalid_signature``, events.md §2.2)."""


@dataclass(frozen=True)
class _Certificate:
    """A certificate parsed once by both libraries (asn1crypto for ``sid`` matching)."""

    der: bytes
    asn1: asn1_x509.Certificate
    x509: x509.Certificate


@dataclass(frozen=True)
class _SignedAttributes:
    signing_time: datetime | None


@dataclass(frozen=True)
class Verified:
    """A successful verification and what it depended on in time: the checks were made at
    ``t`` = the signing time, or the request's ``now`` when the signature has no signing time;
    the accepting path holds for any ``t`` with ``not_before <= t <= not_after`` and, for a
    retired entry, ``t < retired_before``."""

    signing_time: datetime | None
    not_before: datetime
    not_after: datetime
    retired_before: datetime | None

    def holds(self, now: datetime, skew_seconds: int) -> bool:
        t = now
        if self.signing_time is not None:
            if self.signing_time > now + timedelta(seconds=skew_seconds):
                return False
            t = self.signing_time
        if not self.not_before <= t <= self.not_after:
            return False
        return self.retired_before is None or t < self.retired_before


def load_trust_anchors(pem: bytes) -> tuple[x509.Certificate, ...]:
    """The trust anchors of ``CMS_TRUST_ANCHORS_FILE`` (settings.md §1.2); ``ValueError`` if unreadable."""
    if not pem.strip():
        return ()
    return tuple(x509.load_pem_x509_certificates(pem))


def verify_detached_signature(
    payload: bytes,
    signature: str,
    *,
    provider: ProviderTrust,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
) -> Verified:
    """Accept the blob's signature or raise :class:`SignatureError` (events.md §2.2 steps 2–3)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")  # a programming error, not a bad signature
    if not provider.events_accepted:  # step 1 is the caller's (unknown_provider); fail closed anyway
        raise SignatureError("provider does not accept events")
    try:
        signed_data = parse_signed_data(signature)
        embedded = _embedded_certificates(signed_data)
        signer_infos = list(signed_data["signer_infos"])
    except SignatureError:
        raise
    except Exception:  # noqa: BLE001 - asn1crypto raises many kinds of exception on hostile input
        raise SignatureError("malformed CMS structure") from None
    first_reason = "no signer info"
    for signer_info in signer_infos:
        try:
            return check_signer_info(
                signer_info,
                payload,
                embedded=embedded,
                provider=provider,
                trust_anchors=trust_anchors,
                now=now,
                skew_seconds=skew_seconds,
            )
        except SignatureError as error:
            reason = str(error)
        except Exception:  # noqa: BLE001 - as above: any parse failure is an invalid signature
            reason = "malformed signer info"
        if first_reason == "no signer info":
            first_reason = reason
    raise SignatureError(first_reason)


def parse_signed_data(signature: str) -> asn1_cms.SignedData:
    """Step 2: base64, a ``ContentInfo`` of type ``signedData``, detached, with a ``SignerInfo``."""
    try:
        der = decode_base64(signature)
    except ValueError:
        raise SignatureError("signature is not valid base64") from None
    if not der:
        raise SignatureError("signature is empty")
    content_info = asn1_cms.ContentInfo.load(der, strict=True)
    if content_info["content_type"].native != "signed_data":
        raise SignatureError("not a CMS signedData")
    signed_data = content_info["content"]
    encapsulated = signed_data["encap_content_info"]
    if encapsulated["content_type"].dotted != asn1_cms.ContentType.unmap("data"):
        raise SignatureError("encapsulated content type is not id-data")
    if encapsulated["content"].native is not None:
        raise SignatureError("signature is not detached")
    if len(signed_data["signer_infos"]) == 0:
        raise SignatureError("no signer info")
    return signed_data


def check_signer_info(
    signer_info: asn1_cms.SignerInfo,
    payload: bytes,
    *,
    embedded: Sequence[_Certificate],
    provider: ProviderTrust,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
) -> Verified:
    """Step 3 for one ``SignerInfo``: digest, signed attributes, signature, trust, status, time."""
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name not in _DIGESTS:
        raise SignatureError("digest algorithm not accepted")
    digest = _DIGESTS[digest_name]()
    attributes = check_signed_attributes(signer_info, payload, digest_name)
    t = now
    signing_time = None
    if attributes is not None and attributes.signing_time is not None:
        t = signing_time = attributes.signing_time
        if t > now + timedelta(seconds=skew_seconds):
            raise SignatureError("signing time is in the future")
    signed_bytes = payload if attributes is None else signed_attributes_as_set(signer_info)
    registered = [_parse_certificate(entry.der) for entry in provider.certificates]
    candidates = find_signer_certificates(signer_info["sid"], [*embedded, *registered])
    if not candidates:
        raise SignatureError("signer certificate not found")
    reason = "signer certificate not found"
    for candidate in candidates:
        try:
            verify_signature_value(signer_info, candidate.x509, signed_bytes, digest)
            not_before, not_after, retired_before = check_signer_trusted(
                candidate, provider=provider, embedded=embedded, trust_anchors=trust_anchors, t=t
            )
            return Verified(signing_time, not_before, not_after, retired_before)
        except SignatureError as error:
            reason = str(error)
        except (ValueError, TypeError, KeyError, x509.ExtensionNotFound):
            reason = "unusable signer certificate"
    raise SignatureError(reason)


def check_signed_attributes(signer_info: asn1_cms.SignerInfo, payload: bytes, digest_name: str) -> _SignedAttributes | None:
    """Signed attributes, if present: ``contentType`` id-data and a matching ``messageDigest``."""
    attributes = signer_info["signed_attrs"]
    if isinstance(attributes, asn1_core.Void):
        return None
    values: dict[str, list] = {}
    for attribute in attributes:
        name = attribute["type"].native
        if name in values:
            raise SignatureError("duplicate signed attribute")
        values[name] = list(attribute["values"])
    content_type = values.get("content_type")
    if not content_type or len(content_type) != 1 or content_type[0].native != "data":
        raise SignatureError("contentType attribute is not id-data")
    message_digest = values.get("message_digest")
    if not message_digest or len(message_digest) != 1:
        raise SignatureError("messageDigest attribute missing")
    expected = hashlib.new(digest_name, payload).digest()
    if not hmac.compare_digest(message_digest[0].native, expected):
        raise SignatureError("messageDigest does not match the payload")
    signing_time = values.get("signing_time")
    if signing_time is not None and len(signing_time) != 1:
        raise SignatureError("signingTime attribute has several values")
    return _SignedAttributes(signing_time=signing_time[0].native if signing_time else None)


def signed_attributes_as_set(signer_info: asn1_cms.SignerInfo) -> bytes:
    """The received DER of the signed attributes with the ``[0] IMPLICIT`` tag replaced by SET (0x31)."""
    encoded = signer_info["signed_attrs"].dump()
    return b"\x31" + encoded[1:]


def find_signer_certificates(sid: asn1_cms.SignerIdentifier, pool: Sequence[_Certificate]) -> list[_Certificate]:
    """The certificates named by ``sid`` (issuerAndSerialNumber or subjectKeyIdentifier), without duplicates."""
    found: dict[bytes, _Certificate] = {}
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        issuer_der = issuer.dump()
        serial = sid.chosen["serial_number"].native
        for certificate in pool:
            if certificate.asn1.serial_number != serial:
                continue
            # Byte equality first: the normalised name comparison of asn1crypto is slow.
            if certificate.asn1.issuer.dump() == issuer_der or certificate.asn1.issuer == issuer:
                found.setdefault(certificate.der, certificate)
    elif sid.name == "subject_key_identifier":
        key_id = sid.chosen.native
        for certificate in pool:
            if certificate.asn1.key_identifier == key_id:
                found.setdefault(certificate.der, certificate)
    return list(found.values())


def verify_signature_value(
    signer_info: asn1_cms.SignerInfo, certificate: x509.Certificate, signed_bytes: bytes, digest: hashes.HashAlgorithm
) -> None:
    """The signature verifies with the signer's key: RSA PKCS#1 v1.5, RSA-PSS or ECDSA."""
    algorithm = signer_info["signature_algorithm"]
    algorithm_name = algorithm.signature_algo
    # Combined OIDs such as sha256WithRSAEncryption must name the SignerInfo's digest.
    combined = algorithm["algorithm"].native not in ("rsassa_pkcs1v15", "rsassa_pss", "ecdsa")
    if combined and algorithm.hash_algo != digest.name:
        raise SignatureError("signature algorithm digest differs from the digest algorithm")
    public_key = certificate.public_key()
    signature = signer_info["signature"].native
    try:
        if algorithm_name == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed_bytes, padding.PKCS1v15(), digest)
        elif algorithm_name == "rsassa_pss" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed_bytes, pss_padding(algorithm["parameters"], digest), digest)
        elif algorithm_name == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed_bytes, ec.ECDSA(digest))
        else:
            raise SignatureError("signature algorithm not accepted for the signer key")
    except InvalidSignature:
        raise SignatureError("signature does not verify") from None


def pss_padding(parameters: object, digest: hashes.HashAlgorithm) -> padding.PSS:
    """The PSS padding described by the SignerInfo's RSASSA-PSS-params (its hash must be the digest)."""
    native = getattr(parameters, "native", None)
    if not isinstance(native, dict):
        raise SignatureError("RSA-PSS parameters missing")
    if native["hash_algorithm"]["algorithm"] != digest.name:
        raise SignatureError("RSA-PSS hash differs from the digest algorithm")
    mask = native["mask_gen_algorithm"]
    if mask["algorithm"] != "mgf1" or mask["parameters"]["algorithm"] not in _DIGESTS:
        raise SignatureError("RSA-PSS mask generation not accepted")
    if native["trailer_field"] != "trailer_field_bc":
        raise SignatureError("RSA-PSS trailer field not accepted")
    mgf_digest = _DIGESTS[mask["parameters"]["algorithm"]]()
    return padding.PSS(mgf=padding.MGF1(mgf_digest), salt_length=native["salt_length"])


def check_signer_trusted(
    signer: _Certificate,
    *,
    provider: ProviderTrust,
    embedded: Sequence[_Certificate],
    trust_anchors: Sequence[x509.Certificate],
    t: datetime,
) -> tuple[datetime, datetime, datetime | None]:
    """The signer is trusted through an entry whose status allows time ``t`` (decisions q, s).

    Returns the window of ``t`` in which the accepting path holds: (not before, not after, and
    the retirement instant of the entry if it is retired)."""
    entries = provider.certificates
    if any(entry.status == REVOKED and entry.der == signer.der for entry in entries):
        raise SignatureError("signer certificate is revoked")
    if not valid_at(signer.x509, t):
        raise SignatureError("signer certificate not valid at signing time")
    reason = "signer certificate not registered for the provider"
    for entry in entries:
        if not entry_status_allows(entry, t):
            if entry.der == signer.der:
                reason = "certificate entry not usable at signing time"
            continue
        retired_before = entry.retired_at if entry.status == RETIRED else None
        if entry.match == PINNED and entry.der == signer.der:
            return signer.x509.not_valid_before_utc, signer.x509.not_valid_after_utc, retired_before
        if entry.match == IDENTITY:
            entry_certificate = _parse_certificate(entry.der).x509
            if not same_identity(signer.x509, entry_certificate):
                continue
            try:
                path = check_identity_chain(signer, embedded=embedded, trust_anchors=trust_anchors, t=t)
                certificates = [signer.x509, *(c.x509 for c in path)]
                not_before = max(c.not_valid_before_utc for c in certificates)
                not_after = min(c.not_valid_after_utc for c in certificates)
                return not_before, not_after, retired_before
            except SignatureError as error:
                reason = str(error)
    raise SignatureError(reason)


def entry_status_allows(entry: CertificateEntry, t: datetime) -> bool:
    """``active`` always; ``retired`` only before its retirement instant; ``revoked`` never (decision s)."""
    if entry.status == ACTIVE:
        return True
    if entry.status == RETIRED:
        return entry.retired_at is not None and t < entry.retired_at
    return False


def valid_at(certificate: x509.Certificate, t: datetime) -> bool:
    """notBefore ≤ t ≤ notAfter."""
    return certificate.not_valid_before_utc <= t <= certificate.not_valid_after_utc


def same_identity(signer: x509.Certificate, entry: x509.Certificate) -> bool:
    """Same single subject commonName and same authorityKeyIdentifier key identifier as the entry."""
    signer_names = signer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    entry_names = entry.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(signer_names) != 1 or len(entry_names) != 1 or signer_names[0].value != entry_names[0].value:
        return False
    signer_key_id = _authority_key_id(signer)
    return signer_key_id is not None and signer_key_id == _authority_key_id(entry)


def check_identity_chain(
    signer: _Certificate,
    *,
    embedded: Sequence[_Certificate],
    trust_anchors: Sequence[x509.Certificate],
    t: datetime,
) -> list[_Certificate]:
    """The signer is an end-entity certificate that chains to a trust anchor, all valid at ``t``;
    returns the path above the signer (intermediates, then the anchor)."""
    if _is_ca(signer.x509):
        raise SignatureError("signer certificate is a CA certificate")
    key_usage = _extension(signer.x509, x509.KeyUsage)
    if key_usage is not None and not key_usage.digital_signature:
        raise SignatureError("signer key usage does not allow digitalSignature")
    anchors = _anchor_certificates(tuple(trust_anchors))
    excluded = {signer.der, *(anchor.der for anchor in anchors)}
    intermediates = [c for c in embedded if c.der not in excluded]
    budget = [_MAX_CHAIN_VERIFICATIONS]
    path = next(_chains(signer, [], intermediates, anchors, t, budget), None)
    if path is None:
        raise SignatureError("signer certificate does not chain to a trust anchor")
    return path


def _chains(
    certificate: _Certificate,
    path: list[_Certificate],
    intermediates: Sequence[_Certificate],
    anchors: Sequence[_Certificate],
    t: datetime,
    budget: list[int],
) -> Iterator[list[_Certificate]]:
    """Depth-first: the valid paths from ``certificate`` up to a trust anchor (bounded work)."""
    for anchor in anchors:
        if _issues(anchor, certificate, path, t, budget):
            yield [*path, anchor]
            return
    if len(path) >= _MAX_CHAIN_INTERMEDIATES:
        return
    for issuer in intermediates:
        if issuer in path or not _issues(issuer, certificate, path, t, budget):
            continue
        yield from _chains(issuer, [*path, issuer], intermediates, anchors, t, budget)


def _issues(issuer: _Certificate, certificate: _Certificate, path: list[_Certificate], t: datetime, budget: list[int]) -> bool:
    """``issuer`` is a CA valid at ``t`` whose path length allows ``path`` and whose signature is on ``certificate``."""
    if issuer.x509.subject != certificate.x509.issuer or budget[0] <= 0:
        return False
    try:
        constraints = _extension(issuer.x509, x509.BasicConstraints)
        key_usage = _extension(issuer.x509, x509.KeyUsage)
    except ValueError:  # malformed extension: not a usable issuer
        return False
    if constraints is None or not constraints.ca:
        return False
    below = sum(1 for c in path if c.x509.subject != c.x509.issuer)  # self-issued intermediates do not count
    if constraints.path_length is not None and below > constraints.path_length:
        return False
    if key_usage is not None and not key_usage.key_cert_sign:
        return False
    if not valid_at(issuer.x509, t):
        return False
    budget[0] -= 1
    return _directly_issued_by(certificate.der, issuer.der)


@functools.lru_cache(maxsize=256)
def _directly_issued_by(certificate_der: bytes, issuer_der: bytes) -> bool:
    """The issuer's signature on the certificate is valid (cached: a pure function of the two encodings)."""
    try:
        _parse_certificate(certificate_der).x509.verify_directly_issued_by(_parse_certificate(issuer_der).x509)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@functools.lru_cache(maxsize=8)
def _anchor_certificates(trust_anchors: tuple[x509.Certificate, ...]) -> tuple[_Certificate, ...]:
    return tuple(_parse_certificate(anchor.public_bytes(_DER)) for anchor in trust_anchors)


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = _extension(certificate, x509.BasicConstraints)
    return constraints is not None and constraints.ca


def _authority_key_id(certificate: x509.Certificate) -> bytes | None:
    extension = _extension(certificate, x509.AuthorityKeyIdentifier)
    return None if extension is None else extension.key_identifier


def _extension(certificate: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _embedded_certificates(signed_data: asn1_cms.SignedData) -> tuple[_Certificate, ...]:
    """The X.509 certificates of the ``certificates`` set (other choices and unparsable ones are skipped)."""
    found = []
    for choice in list(signed_data["certificates"] or [])[:_MAX_EMBEDDED_CERTIFICATES]:
        if choice.name != "certificate":
            continue
        try:
            found.append(_parse_certificate(choice.chosen.dump()))
        except Exception:  # noqa: BLE001, S112 - a broken extra certificate is ignored, not fatal
            continue
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _parse_certificate(der: bytes) -> _Certificate:
    asn1 = asn1_x509.Certificate.load(der, strict=True)
    asn1.issuer  # noqa: B018 - force parsing of the fields used for sid matching
    asn1.serial_number  # noqa: B018
    return _Certificate(der=der, asn1=asn1, x509=x509.load_der_x509_certificate(der))


class VerificationCache:
    """A bounded LRU of successful verifications (see the module docstring); thread-safe."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[object, ...], Verified] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[object, ...]) -> Verified | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: Verified) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


verification_cache = VerificationCache()


def blob_digest(payload: bytes, signature: str) -> bytes:
    """SHA-256 over payload and signature, length-prefixed so that no two pairs collide by shifting."""
    digest = hashlib.sha256(len(payload).to_bytes(8, "big"))
    digest.update(payload)
    digest.update(signature.encode("utf-8", "surrogatepass"))
    return digest.digest()


def verify_detached_signature_cached(
    payload: bytes,
    signature: str,
    *,
    provider: ProviderTrust,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
    cache: VerificationCache | None = None,
) -> Verified:
    """:func:`verify_detached_signature` with successes cached; the same answer for every input.

    The key holds the provider's trust entries and the trust anchors by value, so a snapshot in
    which an entry was retired, revoked, added or removed never meets a result verified under
    another; a hit is re-checked against ``now`` (:meth:`Verified.holds`), and anything that
    does not hold is verified afresh (which gives the exact reason)."""
    cache = verification_cache if cache is None else cache
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    key = (blob_digest(payload, signature), provider, tuple(trust_anchors), skew_seconds)
    found = cache.get(key)
    if found is not None and found.holds(now, skew_seconds):
        cache.hits += 1
        return found
    cache.misses += 1
    verified = verify_detached_signature(
        payload, signature, provider=provider, trust_anchors=trust_anchors, now=now, skew_seconds=skew_seconds
    )
    cache.put(key, verified)
    return verified
