"""A development and test event provider that signs results the way real providers do (events.md §2.1).

TEST AND DEVELOPMENT ONLY. It creates its own root CA (and, on request, intermediate CAs), issues
leaf certificates and produces detached CMS ``SignedData`` signatures over payload bytes, with
the options the verification tests need (custom signing time, no signed attributes, RSA-PSS,
ECDSA, embedded content, weak digests, ``sid`` by subject key identifier).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,
    "md5": hashes.MD5,
}
_SIGNING_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def generate_key(key_type: str = "rsa") -> PrivateKey:
    """A new RSA 2048 (``"rsa"``) or EC P-256 (``"ec"``) private key."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {key_type!r}")


@dataclass
class TestSigner:
    """A provider signing certificate with its key; ``chain`` is what a signature embeds (leaf first)."""

    __test__ = False  # not a pytest test class

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def sign(
        self,
        payload: bytes,
        *,
        signing_time: datetime | None = None,
        with_attributes: bool = True,
        pss: bool = False,
        embed_content: bool = False,
        digest: str = "sha256",
        sid: str = "issuer_and_serial_number",
        certificates: tuple[x509.Certificate, ...] | None = None,
    ) -> str:
        """Base64 of a DER CMS ``SignedData`` over ``payload`` (detached unless ``embed_content``).

        ``certificates`` overrides the embedded certificates (default: ``chain``). With every option
        at its default (signing time = the current time) the signature is built by ``cryptography``'s
        PKCS#7 builder, as a provider using a standard library would; otherwise it is assembled with
        ``asn1crypto``.
        """
        if pss and not isinstance(self.key, rsa.RSAPrivateKey):
            raise ValueError("RSA-PSS needs an RSA signer key")
        embedded = self.chain if certificates is None else certificates
        standard = (
            signing_time is None
            and with_attributes
            and not pss
            and not embed_content
            and digest == "sha256"
            and sid == "issuer_and_serial_number"
            and embedded[:1] == (self.cert,)
        )
        if standard:
            der = self._sign_with_builder(payload, embedded)
        else:
            der = self._sign_by_hand(
                payload,
                signing_time=signing_time,
                with_attributes=with_attributes,
                pss=pss,
                embed_content=embed_content,
                digest=digest,
                sid=sid,
                embedded=embedded,
            )
        return base64.b64encode(der).decode("ascii")

    def _sign_with_builder(self, payload: bytes, embedded: tuple[x509.Certificate, ...]) -> bytes:
        builder = pkcs7.PKCS7SignatureBuilder().set_data(payload).add_signer(self.cert, self.key, hashes.SHA256())
        for certificate in embedded[1:]:
            builder = builder.add_certificate(certificate)
        options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
        return builder.sign(serialization.Encoding.DER, options)

    def _sign_by_hand(
        self,
        payload: bytes,
        *,
        signing_time: datetime | None,
        with_attributes: bool,
        pss: bool,
        embed_content: bool,
        digest: str,
        sid: str,
        embedded: tuple[x509.Certificate, ...],
    ) -> bytes:
        signed_attrs = None
        signed_bytes = payload
        if with_attributes:
            signed_attrs = _signed_attributes(payload, digest, signing_time)
            signed_bytes = signed_attrs.dump()  # the SET OF encoding (tag 0x31)
        signature = self._raw_signature(signed_bytes, digest, pss)
        signer_info = asn1_cms.SignerInfo(
            {
                "version": "v1" if sid == "issuer_and_serial_number" else "v3",
                "sid": self._signer_identifier(sid),
                "digest_algorithm": {"algorithm": digest},
                "signed_attrs": signed_attrs,
                "signature_algorithm": self._signature_algorithm(digest, pss),
                "signature": signature,
            }
        )
        signed_data = asn1_cms.SignedData(
            {
                "version": "v1" if sid == "issuer_and_serial_number" else "v3",
                "digest_algorithms": [{"algorithm": digest}],
                "encap_content_info": {"content_type": "data", "content": payload if embed_content else None},
                "certificates": [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in embedded],
                "signer_infos": [signer_info],
            }
        )
        return asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()

    def _signer_identifier(self, sid: str) -> asn1_cms.SignerIdentifier:
        certificate = asn1_x509.Certificate.load(self.der)
        if sid == "issuer_and_serial_number":
            return asn1_cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
            )
        if sid == "subject_key_identifier":
            return asn1_cms.SignerIdentifier(name="subject_key_identifier", value=certificate.key_identifier)
        raise ValueError(f"unknown sid kind {sid!r}")

    def _signature_algorithm(self, digest: str, pss: bool) -> dict[str, Any]:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return {"algorithm": f"{digest}_ecdsa"}
        if pss:
            return {
                "algorithm": "rsassa_pss",
                "parameters": {
                    "hash_algorithm": {"algorithm": digest},
                    "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
                    "salt_length": _HASHES[digest].digest_size,
                    "trailer_field": "trailer_field_bc",
                },
            }
        return {"algorithm": "rsassa_pkcs1v15"}

    def _raw_signature(self, data: bytes, digest: str, pss: bool) -> bytes:
        algorithm = _HASHES[digest]()
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(algorithm))
        if pss:
            pss_padding = padding.PSS(mgf=padding.MGF1(_HASHES[digest]()), salt_length=algorithm.digest_size)
            return self.key.sign(data, pss_padding, algorithm)
        return self.key.sign(data, padding.PKCS1v15(), algorithm)


def _signed_attributes(payload: bytes, digest: str, signing_time: datetime | None) -> asn1_cms.CMSAttributes:
    attributes: list[dict[str, Any]] = [
        {"type": "content_type", "values": ["data"]},
    ]
    if signing_time is not None:
        kind = "utc_time" if 1950 <= signing_time.year < 2050 else "generalized_time"
        attributes.append({"type": "signing_time", "values": [asn1_cms.Time(name=kind, value=signing_time)]})
    attributes.append({"type": "message_digest", "values": [hashlib.new(digest, payload).digest()]})
    return asn1_cms.CMSAttributes(attributes)


@dataclass
class TestProviderCA:
    """A test certification authority; ``parents`` are the CA certificates above it (root last)."""

    __test__ = False  # not a pytest test class

    cert: x509.Certificate
    key: PrivateKey
    parents: tuple[x509.Certificate, ...] = field(default=())

    def issue_signer(
        self,
        common_name: str = "Test Provider",
        *,
        key_type: str = "ec",
        key_usage: x509.KeyUsage | None = _SIGNING_KEY_USAGE,
        ca: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        pss_public_key: bool = False,
    ) -> TestSigner:
        """A signing certificate issued by this CA. ``ca=True`` makes a (wrongly used) CA certificate;
        ``pss_public_key`` names the RSA key ``id-RSASSA-PSS`` in the certificate."""
        key = generate_key("rsa" if pss_public_key else key_type)
        start = not_before or datetime.now(UTC) - timedelta(days=1)
        end = not_after or start + timedelta(days=366)
        builder = self._builder(_name(common_name, "Test Provider Organisation"), key, start, end)
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if key_usage is not None:
            builder = builder.add_extension(key_usage, critical=True)
        cert = builder.sign(self.key, hashes.SHA256())
        if pss_public_key:
            cert = _with_pss_public_key(cert, self.key)
        return TestSigner(cert=cert, key=key, chain=(cert, self.cert, *self.parents))

    def issue_intermediate(
        self,
        common_name: str = "Test Provider Intermediate CA",
        *,
        key_type: str = "ec",
        path_length: int | None = 0,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> TestProviderCA:
        """An intermediate CA under this one."""
        key = generate_key(key_type)
        start = not_before or datetime.now(UTC) - timedelta(days=1)
        end = not_after or start + timedelta(days=3650)
        builder = self._builder(_name(common_name, "Test CA Organisation"), key, start, end)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        builder = builder.add_extension(_CA_KEY_USAGE, critical=True)
        cert = builder.sign(self.key, hashes.SHA256())
        return TestProviderCA(cert=cert, key=key, parents=(self.cert, *self.parents))

    def issue_tls_server(self, host: str, *, key_type: str = "ec") -> TestSigner:
        """A TLS server certificate for `host` (its subjectAltName), valid for 30 days."""
        key = generate_key(key_type)
        start = datetime.now(UTC) - timedelta(days=1)
        builder = self._builder(_name(host, "Test Server Organisation"), key, start, start + timedelta(days=30))
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return TestSigner(cert=cert, key=key, chain=(cert, self.cert, *self.parents))

    def _builder(self, subject: x509.Name, key: PrivateKey, start: datetime, end: datetime) -> x509.CertificateBuilder:
        issuer_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
        )


def create_test_ca(
    common_name: str = "Test Provider Root CA",
    *,
    key_type: str = "ec",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> TestProviderCA:
    """A new self-signed test root CA (TEST ONLY)."""
    key = generate_key(key_type)
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    end = not_after or start + timedelta(days=3650)
    subject = _name(common_name, "Test CA Organisation")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TestProviderCA(cert=cert, key=key)


def make_blob(payload: dict[str, Any] | bytes, signer: TestSigner, **sign_options: Any) -> dict[str, str]:
    """A provider result blob ``{"payload": b64, "signature": b64}`` (events.md §1) signed by ``signer``."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    return {"payload": base64.b64encode(data).decode("ascii"), "signature": signer.sign(data, **sign_options)}


_DEV_FILES = ("ca.pem", "ca-key.pem", "signer.pem", "signer-key.pem")


def ensure_dev_test_provider(folder: Path, *, common_name: str = "Dev Test Provider") -> TestSigner:
    """Load the development test provider from ``folder``, creating its CA and signer (PEM files) if absent.

    DEVELOPMENT ONLY: the private keys are written unencrypted (file mode 0600).
    """
    folder = Path(folder)
    paths = [folder / name for name in _DEV_FILES]
    if all(path.exists() for path in paths):
        ca_cert, _ca_key, cert, key = (path.read_bytes() for path in paths)
        root = x509.load_pem_x509_certificate(ca_cert)
        return TestSigner(
            cert=x509.load_pem_x509_certificate(cert),
            key=_load_key(key),
            chain=(x509.load_pem_x509_certificate(cert), root),
        )
    folder.mkdir(parents=True, exist_ok=True)
    ca = create_test_ca(f"{common_name} Root CA")
    signer = ca.issue_signer(common_name, not_after=datetime.now(UTC) + timedelta(days=3650))
    _write(paths[0], ca.cert.public_bytes(serialization.Encoding.PEM))
    _write(paths[1], _key_pem(ca.key), private=True)
    _write(paths[2], signer.cert.public_bytes(serialization.Encoding.PEM))
    _write(paths[3], _key_pem(signer.key), private=True)
    return TestSigner(cert=signer.cert, key=signer.key, chain=(signer.cert, ca.cert))


def _load_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise TypeError("the dev test provider key must be RSA or EC")
    return key


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _with_pss_public_key(cert: x509.Certificate, issuer_key: PrivateKey) -> x509.Certificate:
    """The same certificate with its RSA key named ``id-RSASSA-PSS``, re-signed by the issuer."""
    tbs = asn1_x509.TbsCertificate.load(cert.tbs_certificate_bytes)
    rsa_key_info = tbs["subject_public_key_info"]
    tbs["subject_public_key_info"] = asn1_keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "rsassa_pss"}, "public_key": rsa_key_info["public_key"]}
    )
    tbs_der = tbs.dump(force=True)
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        signature = issuer_key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
        algorithm = "sha256_ecdsa"
    else:
        signature = issuer_key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "sha256_rsa"
    certificate = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": {"algorithm": algorithm},
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(certificate.dump())
