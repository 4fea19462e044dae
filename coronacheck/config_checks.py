"""Start-up validation (settings.md §2), run when the ASGI application starts and by
`manage.py check_config`. Messages name the setting, never a secret or key."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from nacl.public import PrivateKey

from common.keyfiles import key32_read
from events import models
from events.providers import provider_problems
from events.rules.config import rule_constants_problems
from events.selectors import rule_configuration_from_models
from events.services import rules_seed_if_empty
from events.validation import rule_data_problems
from idemix import keys as idemix_keys

TEST_ISSUER_CLAIM = "jwt.test.coronacheck.nl"

# SHA-256 fingerprints of the TEST ONLY key material of reference/keys/ (raw bytes of NaCl and
# HMAC keys; DER SubjectPublicKeyInfo of RSA/EC keys). None may be configured outside DEBUG.
TEST_KEY_FINGERPRINTS = frozenset(
    {
        "8f625788a6133586b442d93e5c518b6b5b3021bdbd235458b332caeb15ca3e93",  # upstream/inge4_NaCl
        "ed1ae38145c2156ed5b301197d8e71de0587ac0191297c3bfe7b8ffd7c77ee84",  # upstream/inge4_NaCl.pub
        "9ecf07a3cda9e562dc201a498e5939aeb9586f60f5e6f61e79c9139464fdfbb1",  # upstream/inge6_NaCl.pub
        "c5df83ea4be75693aee8178a9a980cdf5a4279531ca2c8c84dbd081d6e86fb1b",  # upstream/redis_hmac_key
        "78c1daf6b16e3aaa67d24f0685bcd09366f02c69cf078a4d46347bb412bb6736",  # upstream/inge6_jwt_* pair
        "d2e77342684847ec56d4ca7e2f267cb89311ef9ebdc2bcfa008b71c97e9cfa0f",  # upstream/jwt_* pair
        "4e43ffba751283a4db1c2348f34ba9b36e9a192d2f8161d6154a254665b4a330",  # upstream/inge6_jwt_public.pem
        "0d027993f9146c3f986a8dc06e4353e434ef71a5360d5014800f7d5c04bec010",  # hcert/key.pem, cert.pem
        "4ae5ecbf05c79b010145e49342083621f0c60bac17559c10b8c79946131665f0",  # provider XXX identity secret
        "03bfe1d6e0a7912dbe7dd2c84b3a443dccf08a503fbd6b237948bd8195662a2e",  # provider XXX BSN private key
        "4514d5cb61411aeff75897e5ec155ad07d077994b5e4529d9f24e10b1723cddc",  # idemix/pk.xml, sk.xml (n)
    }
)
#: Bases R_i an Idemix key needs: the holder secret, the metadata and the 9 attributes of version 3.
IDEMIX_MIN_BASES = 11
IDEMIX_MIN_MODULUS_BITS = 2048


# The settings that name key files (settings.md §1.1), for messages that name the setting.
KEY_FILE_SETTINGS = (
    "DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME",
    "DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME",
    "INGE4_NACL_PRIVATE_KEY_FILE",
    "INGE4_NACL_PUBLIC_KEY_FILE",
    "INGE6_NACL_PUBLIC_KEY_FILE",
    "INGE6_JWT_PUBLIC_CRT_FILE",
    "SESSION_HMAC_KEY_FILE",
    "SUBMISSION_PSEUDONYM_KEY_FILE",
    "RVIG_CERT_FILENAME",
    "CMS_TRUST_ANCHORS_FILE",
)


class ConfigProblems(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n- " + "\n- ".join(problems))
        self.problems = problems


def _spki_fingerprint(public_key: PublicKeyTypes) -> str:
    return hashlib.sha256(
        public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


def url_problem(name: str, url: str, *, plaintext_allowed: bool = True) -> str | None:
    if not url:
        return f"{name} is required"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name} must be an absolute http(s) URL"
    if parts.scheme == "http" and not settings.DEBUG:
        host = parts.hostname
        loopback = host == "localhost"
        try:
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass
        if not (loopback or (plaintext_allowed and host in settings.PLAINTEXT_HTTP_HOSTS)):
            return f"{name} must use https (plain http only for loopback or PLAINTEXT_HTTP_HOSTS)"
    return None


def config_problems() -> list[str]:
    problems: list[str] = []
    fingerprints: list[tuple[str, str]] = []

    def check(name: str, fn: Callable[[], None]) -> None:
        if not getattr(settings, name):
            problems.append(f"{name} is required")
            return
        try:
            fn()
        except OSError as exc:  # name the setting whose file it is, and the path
            path = exc.filename or getattr(settings, name)
            owner = next((n for n in KEY_FILE_SETTINGS if getattr(settings, n) == path), name)
            reason = {FileNotFoundError: "file not found", IsADirectoryError: "is a directory, not a file"}.get(
                type(exc), f"cannot be read ({exc.strerror or type(exc).__name__})"
            )
            problems.append(f"{owner}: {reason}: {path}")
        except Exception as exc:  # the message is ours or the parser's; it never holds key bytes
            problems.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")

    if not settings.SECRETS_FOLDER:
        problems.append("SECRETS_FOLDER is required")
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty one
        secret_key = ""
    if not secret_key:
        problems.append("SECRET_KEY is required")
    for name in (
        "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL",
        "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL",
        "DOMESTIC_NL_VWS_PAPER_SIGNING_URL",
        "EU_INTERNATIONAL_SIGNING_URL",
        "INGE6_BSN_RETRIEVAL_URL",
    ):
        problem = url_problem(name, getattr(settings, name))
        if problem:
            problems.append(problem)
    problem = url_problem("RVIG_URL", settings.RVIG_URL, plaintext_allowed=False)
    if problem:
        problems.append(problem)
    if not settings.INGE4_JWT_AUDIENCE:
        problems.append("INGE4_JWT_AUDIENCE must be a non-empty list")

    def nacl_pair() -> None:

        private = key32_read(settings.INGE4_NACL_PRIVATE_KEY_FILE)
        fingerprints.append(("INGE4_NACL_PRIVATE_KEY_FILE", hashlib.sha256(private).hexdigest()))
        if settings.INGE4_NACL_PUBLIC_KEY_FILE:
            public = key32_read(settings.INGE4_NACL_PUBLIC_KEY_FILE)
            if bytes(PrivateKey(private).public_key) != public:
                raise ValueError("public key does not match the private key")

    def inge6_nacl() -> None:
        public = key32_read(settings.INGE6_NACL_PUBLIC_KEY_FILE)
        fingerprints.append(("INGE6_NACL_PUBLIC_KEY_FILE", hashlib.sha256(public).hexdigest()))

    def jwt_key() -> None:
        key = serialization.load_pem_private_key(Path(settings.DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME).read_bytes(), None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("must be an RSA key of at least 2048 bits")
        fingerprints.append(("DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME", _spki_fingerprint(key.public_key())))
        if settings.DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME:
            public = serialization.load_pem_public_key(Path(settings.DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME).read_bytes())
            if _spki_fingerprint(public) != _spki_fingerprint(key.public_key()):
                raise ValueError("public key does not match the private key")

    def inge6_jwt_key() -> None:
        public = serialization.load_pem_public_key(Path(settings.INGE6_JWT_PUBLIC_CRT_FILE).read_bytes())
        fingerprints.append(("INGE6_JWT_PUBLIC_CRT_FILE", _spki_fingerprint(public)))

    def session_key() -> None:
        raw = key32_read(settings.SESSION_HMAC_KEY_FILE)
        fingerprints.append(("SESSION_HMAC_KEY_FILE", hashlib.sha256(raw).hexdigest()))

    def pseudonym_key() -> None:
        key32_read(settings.SUBMISSION_PSEUDONYM_KEY_FILE)

    def rvig_pem() -> None:
        data = Path(settings.RVIG_CERT_FILENAME).read_bytes()
        x509.load_pem_x509_certificate(data)
        serialization.load_pem_private_key(data, None)

    def trust_anchors() -> None:
        certs = x509.load_pem_x509_certificates(Path(settings.CMS_TRUST_ANCHORS_FILE).read_bytes())
        if not any(_is_ca(c) for c in certs):
            raise ValueError("holds no CA certificate")

    check("INGE4_NACL_PRIVATE_KEY_FILE", nacl_pair)
    check("INGE6_NACL_PUBLIC_KEY_FILE", inge6_nacl)
    check("DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME", jwt_key)
    check("INGE6_JWT_PUBLIC_CRT_FILE", inge6_jwt_key)
    check("SESSION_HMAC_KEY_FILE", session_key)
    check("SUBMISSION_PSEUDONYM_KEY_FILE", pseudonym_key)
    check("CMS_TRUST_ANCHORS_FILE", trust_anchors)
    problems.extend(idemix_key_problems(fingerprints))
    if settings.RVIG_CERT_FILENAME:
        check("RVIG_CERT_FILENAME", rvig_pem)
    elif settings.RVIG_URL.startswith("https"):
        problems.append("RVIG_CERT_FILENAME is required for the https RVIG endpoint")

    claim = settings.IDENTITY_HASH_JWT_ISSUER_CLAIM
    if not claim:
        problems.append("IDENTITY_HASH_JWT_ISSUER_CLAIM is required")
    elif claim == TEST_ISSUER_CLAIM and not settings.DEBUG:
        problems.append("IDENTITY_HASH_JWT_ISSUER_CLAIM must not be the test issuer outside DEBUG")
    if settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT <= 0:
        problems.append("DOMESTIC_NL_ISSUE_READ_TIMEOUT must be positive")
    mocks_allowed = settings.ALLOW_MOCKS and (settings.DEBUG or settings.TEST_SETTINGS)
    if settings.INGE6_MOCK_MODE and not mocks_allowed:
        problems.append("INGE6_MOCK_MODE is on, but mocks need ALLOW_MOCKS and DEBUG (or test settings)")
    if not settings.DEBUG:
        for name, fingerprint in fingerprints:
            if fingerprint in TEST_KEY_FINGERPRINTS:
                problems.append(f"{name} is a TEST ONLY key and must not be used outside DEBUG")
    try:
        problems.extend(database_config_problems())
    except DatabaseError as exc:
        problems.append(f"database: {type(exc).__name__}: {str(exc).splitlines()[0][:160]} (has `manage.py migrate` run?)")
    return problems


def idemix_modulus_fingerprint(public: idemix_keys.PublicKey) -> str:
    return hashlib.sha256(public.n.to_bytes((public.n.bit_length() + 7) // 8, "big")).hexdigest()


def idemix_key_problems(fingerprints: list[tuple[str, str]] | None = None) -> list[str]:
    """The optional Idemix pair of the domestic signer (DOMESTIC_NL_IDEMIX_*_KEY_FILE): the public
    key parses, is large enough and has the bases; with the secret key, the pair is valid."""
    public_file, secret_file = settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE, settings.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE
    if not public_file:
        return ["DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE needs DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE"] if secret_file else []
    name = "DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE"
    try:
        public = idemix_keys.load_public_key(public_file)
    except FileNotFoundError:
        return [f"{name}: file not found"]
    except (OSError, ValueError) as exc:
        return [f"{name}: {type(exc).__name__}: {str(exc)[:120]}"]
    problems: list[str] = []
    if public.n.bit_length() < IDEMIX_MIN_MODULUS_BITS:
        problems.append(f"{name}: the modulus has {public.n.bit_length()} bits, at least {IDEMIX_MIN_MODULUS_BITS} needed")
    if len(public.r) < IDEMIX_MIN_BASES:
        problems.append(f"{name}: the key has {len(public.r)} bases R_i, credential version 3 needs {IDEMIX_MIN_BASES}")
    if fingerprints is not None:
        fingerprints.append((name, idemix_modulus_fingerprint(public)))
    if not secret_file:
        return problems
    name = "DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE"
    try:
        secret = idemix_keys.load_secret_key(secret_file)
    except FileNotFoundError:
        return [*problems, f"{name}: file not found"]
    except (OSError, ValueError) as exc:  # the parser's message names an element, never a number
        return [*problems, f"{name}: {type(exc).__name__}: {str(exc)[:120]}"]
    problems += [f"{name}: {problem}" for problem in idemix_keys.validate_key_pair(public, secret)]
    return problems


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def database_config_problems() -> list[str]:
    """Rule constants, rule data and provider registry in the database (seeded when empty)."""

    problems: list[str] = []
    rules_seed_if_empty()
    config = rule_configuration_from_models()
    values = {name: getattr(config, name) for name in config.__dataclass_fields__}
    values["eu_recovery_test_types"] = list(config.eu_recovery_test_types)
    problems += [f"rule setting {k.upper()}: {v}" for k, v in rule_constants_problems(values).items()]
    problems += rule_data_problems(
        hpk_codes=config.hpk_codes,
        value_sets={
            "vaccine-mah-manf": set(config.vaccine_manufacturers),
            "vaccine-medicinal-product": set(config.vaccine_products),
            "test-type": set(config.test_types),
        },
        required_doses=config.required_doses,
        allowlist=config.partial_disclosure,
    )
    for provider in models.Provider.objects.prefetch_related("certificates"):
        problems += [f"provider {provider.identifier}: {p}" for p in provider_problems(provider)]
    return problems


def config_warnings() -> list[str]:
    warnings: list[str] = []
    try:
        models.Provider.objects.exists()
    except DatabaseError:
        return warnings  # reported as a problem by `config_problems`
    if not models.Provider.objects.filter(tokens_enabled=True).exists():
        warnings.append("no provider has tokens_enabled")
    if not models.Provider.objects.filter(events_accepted=True).exists():
        warnings.append("no provider has events_accepted")
    return warnings


def config_problems_raise() -> None:
    problems = config_problems()
    if problems:
        raise ConfigProblems(problems)
