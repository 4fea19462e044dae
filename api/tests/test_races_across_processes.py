"""Races across worker processes (issue "Reliability across processes"): two uvicorn processes on
one PostgreSQL database.

1. 1,000 `stoken`s, each redeemed at the same moment through both workers: exactly one of each
   pair wins (200), the other is refused (401 "Session expired or is invalid", api.md §5), and
   the database agrees: one 200 and one 401 submission per stoken, every EU certificate received
   is audited once and no UCI twice.
2. The per-client rate limit holds its bound when both workers take the requests concurrently.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from devtools.testing.api_fixtures import negative_test, result
from devtools.testing.processes import signer_settings
from devtools.testing.service import database_url, start_service
from devtools.testprovider import make_blob
from events.services import rule_configuration_update

STOKENS = 1000
CONCURRENCY = 16  # pairs in flight at once
UNUSED_ICM = base64.b64encode(b"{}").decode()  # the domestic app signer is off in this test


@pytest.fixture
def two_workers(signers, registered_provider):
    # The race is about the session, which is consumed before any signer call: the domestic app
    # signer is switched off so that 1,000 requests need no real Idemix commitments (about 0.2 s
    # of CPU each for the app and again for the signer). The EU certificates are still issued.
    rule_configuration_update({"domestic_nl_dynamic_signer_enabled": False})
    env = {"DATABASE_URL": database_url(connection.settings_dict), "RULE_CACHE_SECONDS": "0", **signer_settings(signers)}
    workers = [start_service(env), start_service(env)]
    yield workers
    for worker in workers:
        assert worker.stop() == 0


@pytest.mark.django_db(transaction=True)
async def test_each_stoken_is_redeemed_exactly_once_across_two_workers(two_workers, provider_signer, now):
    blobs = [make_blob(result(negative_test(now - timedelta(hours=1))), provider_signer)]
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    clients = [httpx.AsyncClient(base_url=w.url("http"), timeout=60, limits=limits) for w in two_workers]
    outcomes: Counter = Counter()  # (status of worker A, status of worker B) per stoken
    received: list[str] = []
    try:
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def race(index: int) -> None:
            async with semaphore:
                prepared = await clients[index % 2].post("/app/prepare_issue/")
                assert prepared.status_code == 200, prepared.text
                session = prepared.json()
                body = {"events": blobs, "stoken": session["stoken"], "issueCommitmentMessage": UNUSED_ICM}
                answers = await asyncio.gather(*(client.post("/app/credentials/", json=body) for client in clients))
                outcomes[tuple(sorted(a.status_code for a in answers))] += 1
                for answer in answers:
                    if answer.status_code == 200:
                        received.extend(card["credential"] for card in answer.json()["euGreencards"])
                    else:
                        outcomes[("refused", json.dumps(answer.json()))] += 1

        await asyncio.gather(*(race(i) for i in range(STOKENS)))
    finally:
        for client in clients:
            await client.aclose()

    pairs = {key: n for key, n in outcomes.items() if isinstance(key[0], int)}
    assert len(pairs) == 1 and sum(pairs.values()) == STOKENS, outcomes
    ((winner, loser),) = pairs
    assert winner == 200 and loser != 200, outcomes
    assert outcomes[("refused", '{"detail": ["Session expired or is invalid"]}')] == STOKENS, outcomes

    from signing.models import EventSubmission, UciAuditRecord

    @sync_to_async
    def recorded():
        statuses = Counter(EventSubmission.objects.filter(endpoint="credentials").values_list("status", flat=True))
        ucis = list(UciAuditRecord.objects.values_list("uci", flat=True))
        return statuses, ucis

    statuses, ucis = await recorded()
    assert statuses[200] == STOKENS and statuses[loser] == STOKENS
    assert len(received) == STOKENS and len(set(received)) == STOKENS  # one EU test certificate per win
    assert len(ucis) == len(set(ucis)) == STOKENS


@pytest.mark.django_db(transaction=True)
async def test_the_rate_limit_holds_across_two_concurrent_workers(signers):
    limit, sent = 50, 200
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        "RATE_LIMIT_REQUESTS": str(limit),
        "RATE_LIMIT_WINDOW_SECONDS": "86400",  # one fixed window for the whole test
    }
    workers = [start_service(env), start_service(env)]
    try:
        clients = [httpx.AsyncClient(base_url=w.url("http"), timeout=60) for w in workers]
        answers = await asyncio.gather(*(clients[i % 2].post("/documentation/V2Event/", json={}) for i in range(sent)))
        for client in clients:
            await client.aclose()
    finally:
        for worker in workers:
            assert worker.stop() == 0
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {422: limit, 429: sent - limit}
