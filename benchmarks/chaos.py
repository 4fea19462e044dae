"""Chaos soak across processes (issue "Reliability across processes"): several uvicorn workers on
one private PostgreSQL, clients mixing every endpoint, and while they run: a worker killed with
SIGKILL mid-request and restarted, PostgreSQL stopped and started, signers browned out, a rule
constant changed in the admin, a print token revoked. Then an exact reconciliation with the
database. Loopback only; stops by itself.

Set-up: PostgreSQL on `--pg-port` (data in /tmp), `--workers` separate `python -m coronacheck.server`
processes on ports `--base-port`+i (one process each, so one can be killed alone), the reference
signers and the fake Inge-6/RVIG on `--base-port`+10…13, a test provider, two print tokens and an
admin account. Clients (`--clients`) spread over the workers (a refused connection moves on to the
next worker: nothing was sent) and mix `/app/print/` 30 %, `/app/prepare_issue/` +
`/app/credentials/` 35 % (every tenth redeemed stoken is replayed once: it must be refused),
`/app/access_tokens/` 15 % and `/health` 20 %.

Timeline (fractions of `--seconds`): brown-outs all along (every few seconds each signer gets a
random fault for ~10 % of its calls: slow below/above the read timeout, 500, 503, garbage,
connection cut mid-body, hang); 15 % a rule constant changed through the admin of worker 0, then
every worker probed: no request started more than RULE_CACHE_SECONDS after the change may see the
old value; 30 % a print token revoked, probed the same way (must be refused); 45 % SIGKILL of the
worker with the most requests in flight, restarted 2 s later; 60 % PostgreSQL stopped for
`--db-outage` seconds; 80 % SIGKILL of another worker mid-request, restarted.

Reconciliation (mismatches, goal 0):
1. every 2xx print/credentials answer has its submission row: per endpoint, rows with status 200
   minus 200 answers received is between 0 and the requests of that endpoint cut by a kill (a
   request whose answer was lost may or may not have committed its row; never more);
2. every EU certificate received is in the UCI audit; no UCI was received twice;
3. the UCI audit holds exactly the certificates of the submission rows (sum of `eu_issued`):
   issued-but-not-delivered = audit minus received = `eu_issued` of failed rows plus that of 200
   rows whose answer was cut (at most 2 per cut credentials request, 1 per cut print);
4. no stoken was redeemed twice: every replay is refused, and no stoken got two 200s;
5. the rule change and the revocation reached every worker within RULE_CACHE_SECONDS.

Usage: `.venv/bin/python benchmarks/chaos.py [--seconds 300] [--clients 30] [--workers 2]`.
Exit status 1 when a check fails. The bounded version runs in the tests (benchmarks/tests).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
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
sys.path.insert(0, str(BASE_DIR / "benchmarks"))


READ_TIMEOUT = 1.0
UNUSED_ICM = base64.b64encode(b"{}").decode()  # the domestic app signer is off in this run (see fixtures_create)
BROWN_OUTS = [
    {"fault": "none", "delay_ms": 300},  # slow, below the read timeout
    {"fault": "none", "delay_ms": 1500},  # slow, above it: a 504 for the request
    {"fault": "500", "delay_ms": 0},
    {"fault": "503", "delay_ms": 0},
    {"fault": "garbage", "delay_ms": 0},
    {"fault": "close", "delay_ms": 0},  # connection cut in the middle of the body
    {"fault": "hang", "delay_ms": 0},
]
BROWN_OUT_RATE = 0.1
RULE_FIELD = "eu_international_print_expiration_time_days"  # seen in every print answer's expirationTime
TRANSPORT_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Tally:
    answers: Counter = field(default_factory=Counter)  # (endpoint, status) -> count
    cut: Counter = field(default_factory=Counter)  # endpoint -> requests sent whose answer was lost
    failovers: int = 0  # connections refused (worker down): moved on to the next worker, nothing sent
    credentials: list[str] = field(default_factory=list)  # HC1 of 200 answers
    stoken_wins: Counter = field(default_factory=Counter)
    replays: Counter = field(default_factory=Counter)  # status of replayed stokens
    faults: Counter = field(default_factory=Counter)  # injected, by kind
    brown_outs: Counter = field(default_factory=Counter)  # (signer, fault) -> times set
    events: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class Workers:
    """The service workers: one process per port, restartable, with client-side in-flight counts."""

    def __init__(self, env: dict[str, str], ports: list[int]) -> None:
        self.env, self.ports = env, ports
        self.processes: list = [None] * len(ports)
        self.in_flight = [0] * len(ports)

    def start(self, index: int) -> None:
        from devtools.testing.service import start_service

        self.processes[index] = start_service(self.env, port=self.ports[index])

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def kill(self, index: int) -> None:
        process = self.processes[index].process
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> list[int]:
        return [p.stop(timeout=60) for p in self.processes if p is not None]


class Clients:
    def __init__(self, workers: Workers, tally: Tally, data: dict) -> None:
        self.workers, self.tally, self.data = workers, tally, data
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self.http = httpx.AsyncClient(timeout=30, limits=limits)

    async def request(
        self, endpoint: str, method: str, path: str, *, start: int, only: bool = False, **kwargs
    ) -> httpx.Response | None:
        """Send to a live worker (moving on when a connection is refused, unless `only` that
        worker). None when the answer was lost after the request went out (a killed worker):
        counted as cut; or, with `only`, when that worker refused the connection."""
        count = len(self.workers.ports)
        for attempt in range(1 if only else count * 20):
            index = (start + attempt) % count
            self.workers.in_flight[index] += 1
            try:
                return await self.http.request(method, self.workers.url(index) + path, **kwargs)
            except TRANSPORT_NOTHING_SENT:
                self.tally.failovers += 1
                if only:
                    return None
                if attempt % count == count - 1:
                    await asyncio.sleep(0.2)  # every worker refused: wait for a restart
            except httpx.TransportError:
                self.tally.cut[endpoint] += 1
                return None
            finally:
                self.workers.in_flight[index] -= 1
        self.tally.cut[endpoint] += 1
        return None

    def count(self, endpoint: str, response: httpx.Response | None) -> None:
        if response is not None:
            self.tally.answers[(endpoint, response.status_code)] += 1

    async def print_once(self, start: int, token: str | None = None, only: bool = False) -> httpx.Response | None:
        response = await self.request(
            "print",
            "POST",
            "/app/print/",
            start=start,
            only=only,
            json={"events": self.data["print"]},
            headers={"Authorization": f"Token {token or self.data['token']}"},
        )
        self.count("print", response)
        if response is not None and response.status_code == 200 and response.json()["european"]:
            self.tally.credentials.append(response.json()["european"]["qr"])
        return response

    async def credentials_once(self, start: int, replay: bool) -> None:
        prepared = await self.request("prepare_issue", "POST", "/app/prepare_issue/", start=start)
        self.count("prepare_issue", prepared)
        if prepared is None or prepared.status_code != 200:
            return
        session = prepared.json()
        body = {"events": self.data["credentials"], "stoken": session["stoken"], "issueCommitmentMessage": UNUSED_ICM}
        response = await self.request("credentials", "POST", "/app/credentials/", start=start + 1, json=body)
        self.count("credentials", response)
        if response is None or response.status_code != 200:
            return
        self.tally.stoken_wins[session["stoken"]] += 1
        self.tally.credentials.extend(card["credential"] for card in response.json()["euGreencards"])
        if replay:
            again = await self.request("credentials", "POST", "/app/credentials/", start=start + 2, json=body)
            self.count("credentials", again)
            if again is not None:
                self.tally.replays[again.status_code] += 1
                if again.status_code == 200:
                    self.tally.stoken_wins[session["stoken"]] += 1
                    self.tally.credentials.extend(card["credential"] for card in again.json()["euGreencards"])

    async def access_tokens_once(self, start: int) -> None:
        response = await self.request(
            "access_tokens", "POST", "/app/access_tokens/", start=start, headers={"Authorization": f"Bearer {self.data['jwt']}"}
        )
        self.count("access_tokens", response)

    async def health_once(self, start: int) -> None:
        self.count("health", await self.request("health", "GET", "/health", start=start))

    async def client(self, index: int, deadline: float) -> None:
        rng = random.Random(index)
        turn = index
        while time.monotonic() < deadline:
            turn += 1
            pick = rng.random()
            if pick < 0.30:
                await self.print_once(turn)
            elif pick < 0.65:
                await self.credentials_once(turn, replay=rng.random() < 0.1)
            elif pick < 0.80:
                await self.access_tokens_once(turn)
            else:
                await self.health_once(turn)


async def brown_outs(signers, deadline: float, tally: Tally) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
            for system in ("eu", "domestic"):
                choice = random.choice(BROWN_OUTS)
                await client.post(signers.url(system, "/_reference/behaviour"), json={**choice, "rate": BROWN_OUT_RATE})
                name = choice["fault"] if choice["fault"] != "none" else f"slow {choice['delay_ms']} ms"
                tally.brown_outs[(system, name)] += 1
            await asyncio.sleep(3)
        for system in ("eu", "domestic"):
            await client.post(signers.url(system, "/_reference/behaviour"), json={"fault": "none", "delay_ms": 0})


async def probe_until(clients: Clients, changed_at: float, bound: float, check, what: str) -> None:
    """Probe every worker until each has answered a probe started more than `bound` after
    `changed_at` (at most 30 s more); such a probe that still shows the old state is a violation.
    Probes that fail for another reason (a browned-out signer) are not observations."""
    tally = clients.tally
    workers = range(len(clients.workers.ports))
    observed: set[int] = set()  # workers with an observation started after the bound
    while time.monotonic() < changed_at + bound + 30:
        for index in workers:
            started = time.monotonic()
            new = await check(index)
            if new is None or started <= changed_at + bound:
                continue
            observed.add(index)
            if not new:
                tally.violations.append(f"{what}: worker {index} still had the old state {started - changed_at:.1f} s after")
        if len(observed) == len(workers):
            break
        await asyncio.sleep(0.1)
    if len(observed) != len(workers):
        tally.violations.append(f"{what}: no probe answered on workers {set(workers) - observed}")
    tally.events.append(f"{what}: every worker ({len(observed)}) shows it for requests started {bound:.0f} s after")


async def rule_change(clients: Clients, bound: float) -> None:
    """Change a rule constant through the admin of worker 0, then probe print on every worker."""
    from events.tests.test_admin import rule_form_data

    old = await asyncio.to_thread(lambda: rule_form_data()[RULE_FIELD] or "")  # empty: the app value, 28 days
    new = 20
    data = await asyncio.to_thread(lambda: rule_form_data(**{RULE_FIELD: new}))
    async with httpx.AsyncClient(base_url=clients.workers.url(0), timeout=30) as admin:
        page = await admin.get("/admin/login/")
        token = admin.cookies["csrftoken"]
        logged_in = await admin.post(
            "/admin/login/?next=/admin/",
            data={"username": "chaos-admin", "password": clients.data["admin_password"], "csrfmiddlewaretoken": token},
        )
        assert logged_in.status_code == 302, (page.status_code, logged_in.status_code)
        changed = await admin.post(
            "/admin/events/ruleconfiguration/1/change/", data={**data, "csrfmiddlewaretoken": admin.cookies["csrftoken"]}
        )
        assert changed.status_code == 302, changed.text[:500]
    changed_at = time.monotonic()
    clients.tally.events.append(f"rule {RULE_FIELD} changed in the admin: {old} -> {new}")

    async def check(index: int) -> bool | None:
        asked = datetime.now(UTC)
        response = await clients.print_once(index, only=True)
        if response is None or response.status_code != 200 or not response.json()["european"]:
            return None
        expires = datetime.fromisoformat(response.json()["european"]["expirationTime"])
        return expires - asked < timedelta(days=new + 1)  # the old value gave 28 days

    await probe_until(clients, changed_at, bound, check, "rule change")


async def token_revocation(clients: Clients, bound: float) -> None:
    from signing.models import PrintToken
    from signing.services import print_token_revoke

    def revoke() -> None:
        print_token_revoke(token=PrintToken.objects.get(client_name="chaos-revoked"))

    await asyncio.to_thread(revoke)
    revoked_at = time.monotonic()
    clients.tally.events.append("print token revoked")

    async def check(index: int) -> bool | None:
        response = await clients.print_once(index, token=clients.data["revoked_token"], only=True)
        if response is None or response.status_code not in (200, 401):
            return None
        return response.status_code == 401

    await probe_until(clients, revoked_at, bound, check, "print token revocation")


async def kill_mid_request(workers: Workers, avoid: int | None, tally: Tally) -> int:
    deadline = time.monotonic() + 20
    while True:
        candidates = [i for i in range(len(workers.ports)) if i != avoid]
        index = max(candidates, key=lambda i: workers.in_flight[i])
        if workers.in_flight[index] > 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    in_flight = workers.in_flight[index]
    await asyncio.to_thread(workers.kill, index)
    tally.faults["worker SIGKILL"] += 1
    tally.events.append(f"worker {index} killed with {in_flight} requests in flight")
    await asyncio.sleep(2)
    await asyncio.to_thread(workers.start, index)
    tally.events.append(f"worker {index} restarted")
    return index


async def database_outage(database, seconds: float, tally: Tally) -> None:
    await asyncio.to_thread(database.stop)
    tally.faults["PostgreSQL stop/start"] += 1
    tally.events.append(f"PostgreSQL stopped for {seconds:.0f} s")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(database_start, database)
    tally.events.append("PostgreSQL started")

    await asyncio.to_thread(database_connections_reset)


def database_start(database, attempts: int = 10) -> None:
    """Start PostgreSQL; its port is in the ephemeral range, so a client socket of any process may
    hold it for a moment ("Address already in use"): try again a few times."""
    for attempt in range(attempts):
        try:
            database.start()
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def private_database(pg_port: int):
    """A fresh private PostgreSQL on `pg_port`, or on one of the next ports if it is taken."""
    from devtools.testing.service import PrivatePostgres

    for port in range(pg_port, pg_port + 8):
        database = PrivatePostgres(port=port, data_dir=f"/tmp/coronacheck-chaos-pg-{port}")
        shutil.rmtree(database.data_dir, ignore_errors=True)
        try:
            database.start()
            return database
        except RuntimeError:
            shutil.rmtree(database.data_dir, ignore_errors=True)
    raise RuntimeError(f"no PostgreSQL port free in {pg_port}…{pg_port + 7}")


def database_connections_reset() -> None:
    """This process's connections and pool predate the restart: drop them."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a connection the restart already cut
            pass
        if hasattr(connection, "close_pool"):
            connection.close_pool()


async def chaos(clients: Clients, signers, database, seconds: float, n_clients: int, outage: float, bound: float) -> None:
    start = time.monotonic()
    deadline = start + seconds

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * seconds - time.monotonic()))

    async def timeline() -> None:
        await at(0.15)
        await rule_change(clients, bound)
        await at(0.30)
        await token_revocation(clients, bound)
        await at(0.45)
        killed = await kill_mid_request(clients.workers, None, clients.tally)
        await at(0.60)
        await database_outage(database, outage, clients.tally)
        await at(0.80)
        await kill_mid_request(clients.workers, killed, clients.tally)

    await asyncio.gather(
        timeline(),
        brown_outs(signers, deadline, clients.tally),
        *(clients.client(i, deadline) for i in range(n_clients)),
    )
    await clients.http.aclose()


def start_side_services(base_port: int, key_folder: str):
    from devtools.testing.processes import start_manage_command

    signer_ports = {"eu": base_port + 10, "domestic": base_port + 11}
    signers = start_manage_command(
        [
            "run_reference_signers",
            "--eu-port",
            str(signer_ports["eu"]),
            "--domestic-port",
            str(signer_ports["domestic"]),
            "--fault-control",
            "--key-folder",
            key_folder,
        ],
        signer_ports,
    )
    fake_ports = {"inge6": base_port + 12, "rvig": base_port + 13}
    fakes = start_manage_command(
        [
            "run_fake_identity_services",
            "--skip-checks",
            "--inge6-port",
            str(fake_ports["inge6"]),
            "--rvig-port",
            str(fake_ports["rvig"]),
        ],
        fake_ports,
    )
    return signers, fakes


def fixtures_create() -> dict:
    import soak
    from django.contrib.auth.models import User

    from devtools.fakes import dev_inge6_jwt
    from events.services import rule_configuration_update, rules_seed_if_empty
    from signing.services import print_token_create

    rules_seed_if_empty()
    # The reference domestic signer issues real Idemix credentials: an app flow needs real
    # commitments (about 0.2 s of CPU for the client and again for the signer) and a paper proof
    # 30-80 ms of signer CPU. On this machine's two shared cores that saturates the signer long
    # before the service (most prints then end in 504 at the 1 s read timeout), so the domestic
    # issuing switches are off here: the domestic signer takes every /prepare_issue, and its
    # brown-outs hit those; the EU signer issues every certificate.
    rule_configuration_update({"domestic_nl_dynamic_signer_enabled": False, "domestic_nl_print_signer_enabled": False})
    data = soak.fixtures_create()
    _, data["revoked_token"] = print_token_create(client_name="chaos-revoked")
    data["admin_password"] = base64.urlsafe_b64encode(os.urandom(18)).decode()
    User.objects.create_superuser("chaos-admin", password=data["admin_password"])
    data["jwt"] = dev_inge6_jwt("999995571", now=datetime.now(UTC))
    return data


def signer_counters(signers) -> dict:
    return {system: httpx.get(signers.url(system, "/_reference/behaviour"), timeout=10).json() for system in ("eu", "domestic")}


def reconcile(tally: Tally, trust_list) -> list[str]:
    """The checks of the module docstring; prints the tables; returns the mismatches."""
    from django.db.models import Count, Sum
    from soak import ucis_received

    from signing.models import EventSubmission, UciAuditRecord

    mismatches = list(tally.violations)
    rows = Counter(
        {
            (r["endpoint"], r["status"]): r["n"]
            for r in EventSubmission.objects.values("endpoint", "status").annotate(n=Count("id"))
        }
    )
    print("\nrequests by endpoint and outcome (client answers | submission rows):")
    endpoints = ("print", "prepare_issue", "credentials", "access_tokens", "health")
    keys = sorted(set(tally.answers) | set(rows), key=lambda k: (endpoints.index(k[0]) if k[0] in endpoints else 9, k[1]))
    for endpoint, status in keys:
        recorded = rows[(endpoint, status)] if endpoint in ("print", "credentials") else "-"
        print(f"  {endpoint:14} {status}: {tally.answers[(endpoint, status)]:7} | {recorded!s:>7}")
    for endpoint in endpoints:
        if tally.cut[endpoint]:
            print(f"  {endpoint:14} cut by a kill (no answer): {tally.cut[endpoint]}")
    print(f"  connections refused, moved to another worker (nothing sent): {tally.failovers}")

    for endpoint in ("print", "credentials"):
        excess = rows[(endpoint, 200)] - tally.answers[(endpoint, 200)]
        if not 0 <= excess <= tally.cut[endpoint]:
            mismatches.append(f"{endpoint}: {rows[(endpoint, 200)]} rows with 200 for {tally.answers[(endpoint, 200)]} answers")

    received = ucis_received(tally.credentials, trust_list)
    audited = list(UciAuditRecord.objects.values_list("uci", flat=True))
    audited_set = set(audited)
    eu_all = EventSubmission.objects.aggregate(n=Sum("eu_issued"))["n"] or 0
    eu_failed = EventSubmission.objects.exclude(status=200).aggregate(n=Sum("eu_issued"))["n"] or 0
    eu_ok = eu_all - eu_failed
    undelivered = audited_set - set(received)
    print("\nEU certificates:")
    print(f"  received in 200 answers: {len(received)} (distinct {len(set(received))})")
    print(f"  in the UCI audit: {len(audited)}; eu_issued of all submission rows: {eu_all}")
    print(f"  issued but not delivered: {len(undelivered)} = eu_issued of failed rows {eu_failed}")
    print(f"    + eu_issued of 200 rows whose answer was cut {eu_ok - len(received)}")
    if len(received) != len(set(received)):
        mismatches.append("a UCI was received twice")
    if not set(received) <= audited_set:
        mismatches.append(f"{len(set(received) - audited_set)} received UCIs are not in the audit")
    if len(audited) != len(audited_set):
        mismatches.append("a UCI is in the audit twice")
    if len(audited) != eu_all:
        mismatches.append(f"UCI audit ({len(audited)}) differs from eu_issued of the submission rows ({eu_all})")
    cut_allowance = 2 * tally.cut["credentials"] + tally.cut["print"]
    if not 0 <= eu_ok - len(received) <= cut_allowance:
        mismatches.append(f"eu_issued of 200 rows {eu_ok} vs received {len(received)} (cut allowance {cut_allowance})")
    if len(undelivered) != eu_failed + (eu_ok - len(received)):
        mismatches.append("issued-but-not-delivered is not accounted for by the submission rows")

    twice = [stoken for stoken, wins in tally.stoken_wins.items() if wins > 1]
    print(f"\nstokens redeemed: {len(tally.stoken_wins)}; replays: {dict(tally.replays)}; redeemed twice: {len(twice)}")
    if twice or tally.replays[200]:
        mismatches.append(f"{len(twice)} stokens redeemed twice")
    return mismatches


def print_faults(tally: Tally, counters: dict) -> None:
    print("\nfaults injected:")
    for name, n in sorted(tally.faults.items()):
        print(f"  {name}: {n}")
    for system in ("eu", "domestic"):
        injected = counters[system]["injected"]
        print(f"  {system} signer: {counters[system]['received']} calls, faults answered: {injected or 'none'}")
    settings_by_kind = Counter()
    for (_system, name), n in tally.brown_outs.items():
        settings_by_kind[name] += n
    print(f"  brown-out settings (each for ~3 s at {BROWN_OUT_RATE:.0%} of calls): {dict(sorted(settings_by_kind.items()))}")
    print("\nevents:")
    for line in tally.events:
        print(f"  {line}")


def run(seconds: float, n_clients: int, n_workers: int, base_port: int, pg_port: int, outage: float) -> int:
    from devtools.testing.processes import signer_settings

    rule_cache = 2.0
    database = private_database(pg_port)
    key_folder = tempfile.mkdtemp(prefix="chaos-signer-keys-")
    signers = fakes = workers = None
    try:
        url = database.create_database("chaos")
        os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "devtools.settings_test"})
        import django

        django.setup()
        data = fixtures_create()
        database_connections_reset()
        signers, fakes = start_side_services(base_port, key_folder)
        env = {
            "DATABASE_URL": url,
            "HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
            "DOMESTIC_NL_ISSUE_READ_TIMEOUT": str(READ_TIMEOUT),
            "RULE_CACHE_SECONDS": str(rule_cache),
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "INGE6_BSN_RETRIEVAL_URL": fakes.url("inge6", "/bsn_attribute"),
            "RVIG_URL": fakes.url("rvig", "/gba-v/online/lo3services/adhoc"),
            "GRACEFUL_SHUTDOWN_SECONDS": "10",
            **signer_settings(signers),
        }
        workers = Workers(env, [base_port + i for i in range(n_workers)])
        for index in range(n_workers):
            workers.start(index)
        print(f"chaos: {seconds:.0f} s, {n_clients} clients, {n_workers} workers, PostgreSQL outage {outage:.0f} s")
        tally = Tally()
        clients = Clients(workers, tally, data)
        started = time.monotonic()
        asyncio.run(chaos(clients, signers, database, seconds, n_clients, outage, rule_cache))
        elapsed = time.monotonic() - started
        codes = workers.stop_all()
        workers = None
        if any(code != 0 for code in codes):
            tally.violations.append(f"workers exited with {codes}")
        counters = signer_counters(signers)
        database_connections_reset()

        from devtools.reference.verifier import trust_list_from_public_keys

        trust_list = trust_list_from_public_keys(httpx.get(signers.url("eu", "/public_keys")).json())
        total = sum(tally.answers.values()) + sum(tally.cut.values())
        print(f"sent {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
        print_faults(tally, counters)
        mismatches = reconcile(tally, trust_list)
        print(f"\nreconciliation mismatches: {len(mismatches)}")
        for mismatch in mismatches:
            print(f"  MISMATCH: {mismatch}")
        print("chaos: OK, nothing lost" if not mismatches else "chaos: FAILED")
        return 1 if mismatches else 0
    finally:
        if workers is not None:
            workers.stop_all()
        for process in (signers, fakes):
            if process is not None:
                process.stop()
        try:
            database.stop()
        except RuntimeError:
            pass  # not running (a failed restart): nothing to stop
        shutil.rmtree(database.data_dir, ignore_errors=True)
        shutil.rmtree(key_folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base-port", type=int, default=20400, help="workers on this port and up; signers and fakes +10…13")
    parser.add_argument("--pg-port", type=int, default=54351)
    parser.add_argument("--db-outage", type=float, default=7.0)
    args = parser.parse_args(argv)
    return run(args.seconds, args.clients, args.workers, args.base_port, args.pg_port, args.db_outage)


if __name__ == "__main__":
    sys.exit(main())
