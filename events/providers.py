"""The provider registry: validation, JSON5 import and certificate entries
(access-tokens.md §5, decisions q, r, s)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import json5
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.db import transaction

from events import models
from events.services import configuration_version_bump

MATCH_MODES = ("pinned", "identity")
STATUSES = ("active", "retired", "revoked")


class ProviderImportError(ValueError):
    """Names the offending entry and field, never a secret."""


@dataclass
class CertificateFacts:
    pem: str
    fingerprint_sha256: str
    subject_common_name: str
    not_valid_before: datetime
    not_valid_after: datetime


def certificate_facts(pem: str, *, match: str) -> CertificateFacts:
    """Parse and check one certificate entry: one leaf X.509 certificate of at most
    `PROVIDER_CERTIFICATE_MAX_BYTES`; an identity entry needs exactly one subject commonName and
    an authority key identifier."""
    if len(pem) > settings.PROVIDER_CERTIFICATE_MAX_BYTES:
        raise ValueError(f"is too large ({len(pem)} characters; at most {settings.PROVIDER_CERTIFICATE_MAX_BYTES})")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("is not a PEM certificate") from None
    if len(certs) != 1:
        raise ValueError("must hold exactly one certificate")
    cert = certs[0]
    # cryptography parses extensions and names when they are first read: a certificate that
    # loads can still be malformed inside (duplicate extensions, bad encodings).
    try:
        extensions = cert.extensions
        names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        common_names = [str(name.value) for name in names]
        der = cert.public_bytes(Encoding.DER)
        validity = (cert.not_valid_before_utc, cert.not_valid_after_utc)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        # DuplicateExtension is not a ValueError: before this check it escaped as a crash.
        raise ValueError("is not a well-formed certificate (its extensions or subject cannot be read)") from None
    try:
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise ValueError("is a CA certificate; register the leaf certificate instead")
    except x509.ExtensionNotFound:
        pass
    if match == "identity":
        if len(common_names) != 1:
            raise ValueError("an identity entry needs exactly one subject commonName")
        try:
            aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        except x509.ExtensionNotFound:
            aki = None
        if aki is None or not aki.key_identifier:
            raise ValueError("an identity entry needs an authority key identifier")
    elif match not in MATCH_MODES:
        raise ValueError("match must be pinned or identity")
    return CertificateFacts(
        pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        subject_common_name=common_names[0] if common_names else "",
        not_valid_before=validity[0],
        not_valid_after=validity[1],
    )


def nacl_key_problem(value: Any) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    return None if len(raw) == 32 else "must be base64 of 32 bytes"


def url_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a URL"
    parts = urlsplit(value)
    if not parts.netloc or parts.scheme not in ("http", "https"):
        return "must be an absolute URL"
    if parts.scheme != "https" and not (settings.DEBUG or settings.TEST_SETTINGS):
        return "must use https"
    return None


def provider_fields_problems(data: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    identifier = data.get("identifier")
    if not isinstance(identifier, str) or not identifier.strip():
        problems["identifier"] = "must be a non-empty string"
    position = data.get("position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        problems["position"] = "must be an integer or empty"
    for name in ("unomi_url", "event_url"):
        problem = url_problem(data.get(name))
        if problem:
            problems[name] = problem
    secret = data.get("identity_hash_secret")
    if not isinstance(secret, str) or len(secret.encode("utf-8")) < 32:
        problems["identity_hash_secret"] = "must be at least 32 bytes"
    for name in ("bsn_public_key", "bsn_private_key"):
        problem = nacl_key_problem(data.get(name))
        if problem:
            problems[name] = problem
    for name in ("tokens_enabled", "events_accepted"):
        if not isinstance(data.get(name, True), bool):
            problems[name] = "must be true or false"
    return problems


def provider_problems(provider: models.Provider) -> list[str]:
    """Start-up validation of one stored provider (settings.md §2)."""
    data = {
        "identifier": provider.identifier,
        "position": provider.position,
        "unomi_url": provider.unomi_url,
        "event_url": provider.event_url,
        "identity_hash_secret": provider.identity_hash_secret,
        "bsn_public_key": provider.bsn_public_key,
        "bsn_private_key": provider.bsn_private_key,
        "tokens_enabled": provider.tokens_enabled,
        "events_accepted": provider.events_accepted,
    }
    problems = [f"{k} {v}" for k, v in provider_fields_problems(data).items()]
    certificates = list(provider.certificates.all())
    for cert in certificates:
        try:
            certificate_facts(cert.pem, match=cert.match)
        except ValueError as exc:
            problems.append(f"certificate {cert.fingerprint_sha256[:16]} {exc}")
        if cert.status == "retired" and cert.retired_at is None:
            problems.append(f"certificate {cert.fingerprint_sha256[:16]} is retired without a retirement instant")
    if provider.events_accepted and not any(c.status != "revoked" for c in certificates):
        problems.append("accepts events but has no certificate entry that is not revoked")
    return problems


@dataclass
class ProviderEntry:
    fields: dict[str, Any]
    certificates: list[tuple[CertificateFacts, str]] = field(default_factory=list)  # (facts, match)


def _cms_entries(value: Any, where: str) -> list[tuple[CertificateFacts, str]]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ProviderImportError(f"{where}: cms must be a PEM string or a list")
    entries = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            pem, match = item, "pinned"
        elif isinstance(item, dict) and isinstance(item.get("pem"), str):
            pem, match = item["pem"], item.get("match", "pinned")
        else:
            raise ProviderImportError(f"{where}: cms[{index}] must be a PEM string or {{pem, match}}")
        try:
            entries.append((certificate_facts(pem, match=match), match))
        except ValueError as exc:
            raise ProviderImportError(f"{where}: cms[{index}] {exc}") from None
    return entries


def providers_parse(text: str) -> list[ProviderEntry]:
    """Parse and validate a whole upstream-format JSON5 provider file (nothing is stored).

    The json5 parser is pure Python (about 35 s per MB of small tokens) and recursive (it gives up
    at a nesting depth of about 60): files over `PROVIDER_FILE_MAX_BYTES` are refused unread, and
    deep nesting is an error, not a crash. The registry's own structure is two levels deep."""
    if len(text) > settings.PROVIDER_FILE_MAX_BYTES:
        raise ProviderImportError(f"the file is too large ({len(text)} characters; at most {settings.PROVIDER_FILE_MAX_BYTES})")
    try:
        data = json5.loads(text)
    except RecursionError:
        raise ProviderImportError("the file is nested too deeply") from None
    except ValueError as exc:
        raise ProviderImportError(f"the file is not valid JSON5 ({str(exc)[:80]})") from None
    if not isinstance(data, list):
        raise ProviderImportError("the file must hold a list of providers")
    entries, seen = [], set()
    for index, item in enumerate(data):
        where = f"entry {index}"
        if not isinstance(item, dict):
            raise ProviderImportError(f"{where}: must be an object")
        if isinstance(item.get("identifier"), str):
            where = f"entry {index} ({item['identifier']})"
        given = item.get("bsn_cryptography")
        crypto: dict[str, Any] = given if isinstance(given, dict) else {}
        fields = {
            "identifier": item.get("identifier"),
            "position": item.get("position"),
            "unomi_url": item.get("unomi_url"),
            "event_url": item.get("event_url"),
            "identity_hash_secret": item.get("identity_hash_secret"),
            "bsn_public_key": crypto.get("public_key"),
            "bsn_private_key": crypto.get("private_key"),
            "tokens_enabled": item.get("tokens_enabled", True),
            "events_accepted": item.get("events_accepted", True),
        }
        problems = provider_fields_problems(fields)
        if problems:
            raise ProviderImportError(f"{where}: " + "; ".join(f"{k} {v}" for k, v in problems.items()))
        if fields["identifier"] in seen:
            raise ProviderImportError(f"{where}: duplicate identifier")
        seen.add(fields["identifier"])
        cms = item.get("cms")
        if cms in ("todo", ""):  # upstream placeholder
            cms = None
        certificates = _cms_entries(cms, where)
        entries.append(ProviderEntry(fields=fields, certificates=certificates))
    return entries


@transaction.atomic
def providers_import(text: str) -> tuple[int, int]:
    """Upsert the providers of a file in one transaction; nothing is removed, and existing
    certificate entries keep their status (access-tokens.md §5). Returns (providers, new entries)."""
    entries = providers_parse(text)
    new_certificates = 0
    for entry in entries:
        fields = dict(entry.fields)
        identifier = fields.pop("identifier")
        provider, _ = models.Provider.objects.update_or_create(identifier=identifier, defaults=fields)
        for facts, match in entry.certificates:
            _, created = models.ProviderCertificate.objects.get_or_create(
                provider=provider,
                fingerprint_sha256=facts.fingerprint_sha256,
                defaults={
                    "pem": facts.pem,
                    "match": match,
                    "status": "active",
                    "subject_common_name": facts.subject_common_name,
                    "not_valid_before": facts.not_valid_before,
                    "not_valid_after": facts.not_valid_after,
                },
            )
            new_certificates += int(created)
        remaining = provider_problems(provider)
        if remaining:
            raise ProviderImportError(f"provider {identifier}: " + "; ".join(remaining))
    configuration_version_bump()
    return len(entries), new_certificates


@transaction.atomic
def provider_certificate_set(
    *, identifier: str, pem: str, match: str | None, status: str | None, retired_at: datetime | None
) -> models.ProviderCertificate:
    """Add a certificate entry or change the match mode and status of an existing one
    (`manage.py provider_certificate`). A revoked entry stays revoked."""
    provider = models.Provider.objects.select_for_update().get(identifier=identifier)
    if status is not None and status not in STATUSES:
        raise ValueError("status must be active, retired or revoked")
    existing_facts = certificate_facts(pem, match=match or "pinned")
    cert = models.ProviderCertificate.objects.filter(
        provider=provider, fingerprint_sha256=existing_facts.fingerprint_sha256
    ).first()
    if cert is None:
        cert = models.ProviderCertificate(
            provider=provider,
            pem=existing_facts.pem,
            fingerprint_sha256=existing_facts.fingerprint_sha256,
            subject_common_name=existing_facts.subject_common_name,
            not_valid_before=existing_facts.not_valid_before,
            not_valid_after=existing_facts.not_valid_after,
            match=match or "pinned",
            status=status or "active",
        )
    else:
        if cert.status == "revoked" and status not in (None, "revoked"):
            raise ValueError("a revoked certificate entry cannot be re-activated or retired")
        if match:
            certificate_facts(pem, match=match)
            cert.match = match
        if status:
            cert.status = status
    if cert.status == "retired":
        cert.retired_at = retired_at or cert.retired_at
        if cert.retired_at is None:
            raise ValueError("a retired entry needs --retired-at")
    cert.save()
    configuration_version_bump()
    return cert
