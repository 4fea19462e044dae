"""Keys of the reference signers: generation and loading (signers.md §2.7, §3.1, §3.3 step 1).

EU signer (DSC): a key folder holds, per key usage, ``<usage>.key.pem`` (EC P-256, PKCS#8, mode
0600) and ``<usage>.cert.pem`` (a self-signed DSC with the usage's extended-key-usage OID). A
folder that instead holds a single ``cert.pem`` / ``key.pem`` pair (the layout of the TEST ONLY
pair in ``reference/keys/hcert/``) uses that pair for every usage.

Domestic signer (Idemix): an Idemix key folder holds ``pk.xml`` and ``sk.xml`` (mode 0600) in
gabi's XML format, the layout of the TEST ONLY pair in ``reference/keys/idemix/``. The signer uses
(`signer_idemix_key_folder`) the folder it is given; else the ``idemix/`` subfolder of the EU key
folder when it holds a pair (``generate_signer_keys`` makes one there); else the TEST ONLY pair of
the shared reference data, the key of the real QR vectors and of upstream's test data, so that the
genuine Go holder and verifier work against it unconfigured; else (no reference data beside the
checkout) a fresh pair made on first use in the ``idemix/`` subfolder. A fresh pair (2048-bit
modulus from safe primes, 12 bases) takes seconds with gmpy2 (longer without) and never replaces
an existing one. The TEST ONLY pair is not copied into the project.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools.reference.hcert import KEY_USAGES, SignerKey, signer_key
from devtools.testing.reference import REFERENCE
from idemix import keys as idemix_keys

KEY_FOLDER_ENV = "EU_SIGNER_KEY_FOLDER"
DEFAULT_KEY_FOLDER = Path(__file__).resolve().parents[2] / ".dev" / "signer-keys"

KEY_USAGE_OIDS = {
    "test": "1.3.6.1.4.1.1847.2021.1.1",
    "vaccination": "1.3.6.1.4.1.1847.2021.1.2",
    "recovery": "1.3.6.1.4.1.1847.2021.1.3",
}
CERTIFICATE_VALIDITY = timedelta(days=2 * 365)

IDEMIX_SUBFOLDER = "idemix"
IDEMIX_PUBLIC_KEY = "pk.xml"
IDEMIX_SECRET_KEY = "sk.xml"
#: The TEST ONLY Idemix pair of the shared reference data (the key of the real QR vectors).
TEST_IDEMIX_KEY_FOLDER = REFERENCE / "keys" / "idemix"


class KeyFolderError(ValueError):
    """The key folder has no usable key for a usage."""


def key_folder_from_environment(option: str | os.PathLike[str] | None = None) -> Path:
    """The option if given, else `EU_SIGNER_KEY_FOLDER`, else `.dev/signer-keys/`."""
    return Path(option or os.environ.get(KEY_FOLDER_ENV) or DEFAULT_KEY_FOLDER)


def _key_path(folder: Path, usage: str) -> Path:
    return folder / f"{usage}.key.pem"


def _certificate_path(folder: Path, usage: str) -> Path:
    return folder / f"{usage}.cert.pem"


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def self_signed_dsc(private_key: ec.EllipticCurvePrivateKey, usage: str, *, now: datetime) -> x509.Certificate:
    """A self-signed development DSC for `usage`, carrying that usage's EKU OID."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CoronaCheck reference signer (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"NOT FOR PRODUCTION DSC {usage}"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + CERTIFICATE_VALIDITY)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(KEY_USAGE_OIDS[usage])]), critical=False)
        .sign(private_key, hashes.SHA256())
    )


def generate_signer_keys(folder: Path, *, now: datetime, usages: tuple[str, ...] = KEY_USAGES) -> list[str]:
    """Create the missing key pairs in `folder`; existing pairs are kept. Returns the usages created."""
    folder.mkdir(parents=True, exist_ok=True)
    created = []
    for usage in usages:
        if _key_path(folder, usage).exists() and _certificate_path(folder, usage).exists():
            continue
        private_key = ec.generate_private_key(ec.SECP256R1())
        certificate = self_signed_dsc(private_key, usage, now=now)
        _write_private(
            _key_path(folder, usage),
            private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        _certificate_path(folder, usage).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        created.append(usage)
    return created


def has_signer_keys(folder: Path) -> bool:
    if (folder / "cert.pem").exists() and (folder / "key.pem").exists():
        return True
    return all(_key_path(folder, usage).exists() and _certificate_path(folder, usage).exists() for usage in KEY_USAGES)


def _load_pair(key_path: Path, certificate_path: Path) -> SignerKey:
    private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise KeyFolderError(f"{key_path.name} is not an EC key")
    if private_key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise KeyFolderError(f"{key_path.name} does not match its certificate")
    return signer_key(private_key, certificate)


def load_signer_keys(folder: Path) -> dict[str, SignerKey]:
    """usage → key: per-usage files first, else the single `cert.pem`/`key.pem` pair for all usages."""
    shared = None
    if (folder / "cert.pem").exists() and (folder / "key.pem").exists():
        shared = _load_pair(folder / "key.pem", folder / "cert.pem")
    keys: dict[str, SignerKey] = {}
    for usage in KEY_USAGES:
        if _key_path(folder, usage).exists() and _certificate_path(folder, usage).exists():
            keys[usage] = _load_pair(_key_path(folder, usage), _certificate_path(folder, usage))
        elif shared is not None:
            keys[usage] = shared
        else:
            raise KeyFolderError(f"no key for usage {usage} in {folder}")
    return keys


# --------------------------------------------------------------------------------------------
# Idemix (domestic signer)


def idemix_key_folder(key_folder: Path, option: str | os.PathLike[str] | None = None) -> Path:
    """The option if given, else the `idemix/` subfolder of the (EU) key folder."""
    return Path(option) if option else key_folder / IDEMIX_SUBFOLDER


def signer_idemix_key_folder(key_folder: Path, option: str | os.PathLike[str] | None = None) -> Path:
    """Where the reference domestic signer reads (or, if empty, makes) its pair; see the module
    docstring for the order."""
    if option:
        return Path(option)
    own = idemix_key_folder(key_folder)
    if has_idemix_keys(own) or not has_idemix_keys(TEST_IDEMIX_KEY_FOLDER):
        return own
    return TEST_IDEMIX_KEY_FOLDER


def has_idemix_keys(folder: Path) -> bool:
    return (folder / IDEMIX_PUBLIC_KEY).exists() and (folder / IDEMIX_SECRET_KEY).exists()


def generate_idemix_keys(folder: Path, *, bits: int = 2048, progress: idemix_keys.ProgressCallback | None = None) -> bool:
    """Create a fresh pair in `folder` unless one exists; True when created."""
    if has_idemix_keys(folder):
        return False
    secret, public = idemix_keys.generate_key_pair(bits, progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(folder / IDEMIX_SECRET_KEY, idemix_keys.secret_key_xml(secret).encode("utf-8"))
    (folder / IDEMIX_PUBLIC_KEY).write_text(idemix_keys.public_key_xml(public), encoding="utf-8")
    return True


def load_idemix_public_key(folder: Path) -> idemix_keys.PublicKey:
    return idemix_keys.load_public_key(folder / IDEMIX_PUBLIC_KEY)


def load_idemix_keys(folder: Path) -> tuple[idemix_keys.PublicKey, idemix_keys.SecretKey]:
    """The pair in `folder`; refuses a secret key that does not belong to the public key."""
    public = load_idemix_public_key(folder)
    secret = idemix_keys.load_secret_key(folder / IDEMIX_SECRET_KEY)
    if public.n != secret.p * secret.q:
        raise KeyFolderError(f"{IDEMIX_SECRET_KEY} in {folder} does not belong to {IDEMIX_PUBLIC_KEY} (n is not p·q)")
    return public, secret
