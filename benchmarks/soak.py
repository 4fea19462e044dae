"""Soak run: minutes of steady load with injected signer faults, then an audit that nothing was
lost (issue "Reliability and security"; api.md §5 step 8, rules-eu.md §9.4).

Set-up: a private PostgreSQL server and database, the reference signers with fault control, the
service under uvicorn (`--workers`), a registered test provider and a print token. Load: an
asyncio client with `--concurrency` workers alternating `/app/print/` and
`/app/prepare_issue/` + `/app/credentials/`, while a toggler changes each signer's behaviour
every few seconds (none, 500, 503, garbage, wrong-shape, close, hang, slow below and above the
read timeout). Checks afterwards:

1. every print/credentials request is in `EventSubmission`: the counts by endpoint and status
   equal the client's counts;
2. the `UciAuditRecord` rows are, one for one, the UCIs (`ci`) of the EU certificates the client
   received in 200 responses (decoded and verified with the reference verifier), plus the
   UCIs "issued but not delivered": EU calls that succeeded in requests that failed because
   another call failed. Their number must equal the `eu_issued` of the failed submissions.

Not part of the test command. Usage: `.venv/bin/python benchmarks/soak.py [--minutes 3]
[--concurrency 20] [--workers 2] [--toggle-seconds 3]`. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from devtools.reference.app_holder import holder_icm  # noqa: E402

READ_TIMEOUT = 1.0
BEHAVIOURS = [
    {"fault": "none", "delay_ms": 0},
    {"fault": "none", "delay_ms": 0},
    {"fault": "none", "delay_ms": 0},
    {"fault": "none", "delay_ms": 300},
    {"fault": "none", "delay_ms": 1500},
    {"fault": "500", "delay_ms": 0},
    {"fault": "503", "delay_ms": 0},
    {"fault": "garbage", "delay_ms": 0},
    {"fault": "wrong-shape", "delay_ms": 0},
    {"fault": "close", "delay_ms": 0},
    {"fault": "hang", "delay_ms": 0},
]


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)  # (endpoint, status) → count
    prepare: Counter = field(default_factory=Counter)
    credentials: list[str] = field(default_factory=list)  # HC1 strings received in 200 responses
    transport_errors: int = 0
    toggles: int = 0
    toggle_errors: int = 0


def provider_results(now: datetime, provider: str) -> tuple[dict, dict]:
    holder = {"firstName": "Soak", "infix": "", "lastName": "Proefpersoon", "birthDate": "1980-05-17"}

    def vaccination(days_ago: int, dose: int) -> dict:
        return {
            "type": "vaccination",
            "unique": f"soak-v-{dose}",
            "isSpecimen": False,
            "vaccination": {
                "date": (now - timedelta(days=days_ago)).date().isoformat(),
                "hpkCode": "2924528",
                "doseNumber": dose,
                "totalDoses": 2,
                "country": "NLD",
            },
        }

    negative = {
        "type": "negativetest",
        "unique": "soak-t-1",
        "isSpecimen": False,
        "negativetest": {
            "sampleDate": (now - timedelta(hours=1)).replace(microsecond=0).isoformat(),
            "negativeResult": True,
            "facility": "Teststraat",
            "type": "LP217198-3",
            "name": "Rapid test",
            "manufacturer": "1232",
            "country": "NL",
        },
    }
    base = {"protocolVersion": "3.0", "providerIdentifier": provider, "status": "complete", "holder": holder}
    return dict(base, events=[vaccination(60, 1), vaccination(30, 2)]), dict(base, events=[negative])


def fixtures_create() -> dict:
    """Provider, pinned certificate, print token and pre-signed blobs in the soak database."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from nacl.public import PrivateKey

    from devtools.testprovider import create_test_ca, make_blob
    from events.models import Provider, ProviderCertificate
    from events.providers import certificate_facts
    from signing.services import print_token_create

    signer = create_test_ca("Soak Root CA").issue_signer("soak.provider.example")
    key = PrivateKey.generate()
    provider = Provider.objects.create(
        identifier="ZZZ",
        unomi_url="https://provider.example/unomi",
        event_url="https://provider.example/event",
        identity_hash_secret=secrets.token_hex(32),
        bsn_public_key=base64.b64encode(bytes(key.public_key)).decode(),
        bsn_private_key=base64.b64encode(bytes(key)).decode(),
    )
    facts = certificate_facts(signer.cert.public_bytes(Encoding.PEM).decode(), match="pinned")
    ProviderCertificate.objects.create(
        provider=provider,
        pem=facts.pem,
        fingerprint_sha256=facts.fingerprint_sha256,
        match="pinned",
        subject_common_name=facts.subject_common_name,
    )
    _, token = print_token_create(client_name="soak")
    vaccinations, negative = provider_results(datetime.now(UTC), "ZZZ")
    return {
        "token": token,
        "print": [make_blob(vaccinations, signer)],
        "credentials": [make_blob(vaccinations, signer), make_blob(negative, signer)],
    }


async def print_once(client: httpx.AsyncClient, data: dict, tally: Tally) -> None:
    response = await client.post(
        "/app/print/", json={"events": data["print"]}, headers={"Authorization": f"Token {data['token']}"}
    )
    tally.statuses[("print", response.status_code)] += 1
    if response.status_code == 200 and response.json()["european"]:
        tally.credentials.append(response.json()["european"]["qr"])


async def credentials_once(client: httpx.AsyncClient, data: dict, tally: Tally) -> None:
    prepared = await client.post("/app/prepare_issue/")
    tally.prepare[prepared.status_code] += 1
    if prepared.status_code != 200:
        return
    session = prepared.json()
    # the app's commitments against the signer's nonce (real: the reference signer verifies them)
    icm = await asyncio.to_thread(holder_icm, session["prepareIssueMessage"])
    response = await client.post(
        "/app/credentials/",
        json={"events": data["credentials"], "stoken": session["stoken"], "issueCommitmentMessage": icm},
    )
    tally.statuses[("credentials", response.status_code)] += 1
    if response.status_code == 200:
        tally.credentials.extend(card["credential"] for card in response.json()["euGreencards"])


async def worker(index: int, base_url: str, data: dict, deadline: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        turn = index
        while time.monotonic() < deadline:
            turn += 1
            try:
                await (print_once if turn % 2 else credentials_once)(client, data, tally)
            except httpx.HTTPError:
                tally.transport_errors += 1


async def toggler(signers, deadline: float, every: float, tally: Tally) -> None:
    """Change each signer's behaviour every `every` seconds; a busy signer may answer late."""
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
            try:
                for system in ("eu", "domestic"):
                    await client.post(signers.url(system, "/_reference/behaviour"), json=random.choice(BEHAVIOURS))
                tally.toggles += 1
            except httpx.HTTPError:
                tally.toggle_errors += 1
            await asyncio.sleep(every)
        for system in ("eu", "domestic"):
            await client.post(signers.url(system, "/_reference/behaviour"), json={"fault": "none", "delay_ms": 0})


async def load(base_url: str, signers, data: dict, minutes: float, concurrency: int, every: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + minutes * 60
    await asyncio.gather(
        toggler(signers, deadline, every, tally), *(worker(i, base_url, data, deadline, tally) for i in range(concurrency))
    )
    return tally


def ucis_received(credentials: list[str], trust_list) -> list[str]:
    from devtools.reference.verifier import verify_hc1

    ucis = []
    for credential in credentials:
        verified = verify_hc1(credential, trust_list=trust_list)
        assert verified.verify and verified.dcc, "a received credential does not verify"
        kind = next(kind for kind in ("v", "t", "r") if verified.dcc.get(kind))
        ucis.append(verified.dcc[kind][0]["ci"])
    return ucis


def audit(tally: Tally, trust_list) -> list[str]:
    """The checks of the module docstring; returns the failures (empty when all hold)."""
    from django.db.models import Count, Sum

    from signing.models import EventSubmission, UciAuditRecord

    failures = []
    recorded = Counter(
        {
            (row["endpoint"], row["status"]): row["n"]
            for row in EventSubmission.objects.values("endpoint", "status").annotate(n=Count("id"))
        }
    )
    print("requests by endpoint and status (client | submission records):")
    for key in sorted(set(recorded) | set(tally.statuses)):
        print(f"  {key[0]:12} {key[1]}: {tally.statuses[key]:6} | {recorded[key]:6}")
    if recorded != tally.statuses:
        failures.append("submission records differ from the client's counts")

    received = ucis_received(tally.credentials, trust_list)
    audited = set(UciAuditRecord.objects.values_list("uci", flat=True))
    undelivered = audited - set(received)
    failed_eu = EventSubmission.objects.exclude(status=200).aggregate(n=Sum("eu_issued"))["n"] or 0
    delivered_eu = EventSubmission.objects.filter(status=200).aggregate(n=Sum("eu_issued"))["n"] or 0
    print(f"EU certificates received in 200 responses: {len(received)} (submission records: {delivered_eu})")
    print(
        f"UCI audit records: {len(audited)}; issued but not delivered: {len(undelivered)} "
        f"(eu_issued of failed submissions: {failed_eu})"
    )
    if len(received) != len(set(received)):
        failures.append("a UCI was received twice")
    if not set(received) <= audited:
        failures.append(f"{len(set(received) - audited)} received UCIs are missing from the audit")
    if len(received) != delivered_eu:
        failures.append("received EU certificates differ from eu_issued of the 200 submissions")
    if len(undelivered) != failed_eu:
        failures.append("issued-but-not-delivered UCIs differ from eu_issued of the failed submissions")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--toggle-seconds", type=float, default=3.0)
    args = parser.parse_args()

    from devtools.testing.processes import signer_settings, start_reference_signers
    from devtools.testing.service import private_postgres, private_postgres_remove, start_service

    database = private_postgres()
    signers = service = None
    try:
        url = database.create_database("soak")
        os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "devtools.settings_test"})
        import django

        django.setup()
        data = fixtures_create()
        signers = start_reference_signers(key_folder=tempfile.mkdtemp(prefix="soak-signer-keys-"))
        env = {
            "DATABASE_URL": url,
            "HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
            "DOMESTIC_NL_ISSUE_READ_TIMEOUT": str(READ_TIMEOUT),
            "RULE_CACHE_SECONDS": "5",
            **signer_settings(signers),
        }
        service = start_service(env, workers=args.workers)
        print(f"soak: {args.minutes} min, {args.concurrency} concurrent clients, {args.workers} workers")
        started = time.monotonic()
        tally = asyncio.run(load(service.url("http"), signers, data, args.minutes, args.concurrency, args.toggle_seconds))
        elapsed = time.monotonic() - started
        service.stop()
        service = None

        from devtools.reference.verifier import trust_list_from_public_keys

        trust_list = trust_list_from_public_keys(httpx.get(signers.url("eu", "/public_keys")).json())
        total = sum(tally.statuses.values())
        print(
            f"sent {total} print/credentials requests and {sum(tally.prepare.values())} prepare_issue requests "
            f"in {elapsed:.0f} s ({total / elapsed:.1f}/s); behaviour toggles: {tally.toggles} "
            f"({tally.toggle_errors} late); "
            f"transport errors: {tally.transport_errors}"
        )
        print(f"prepare_issue by status: {dict(sorted(tally.prepare.items()))}")
        failures = audit(tally, trust_list)
        if tally.transport_errors:
            failures.append(f"{tally.transport_errors} requests got no HTTP answer")
        for failure in failures:
            print(f"FAILED: {failure}")
        print("soak: OK, nothing lost" if not failures else "soak: FAILED")
        return 1 if failures else 0
    finally:
        if service is not None:
            service.stop()
        if signers is not None:
            signers.stop()
        private_postgres_remove(database)


if __name__ == "__main__":
    sys.exit(main())
