"""Canned signers for the load benchmarks: the API shapes of the domestic and EU signers
(signers.md §2, §3) with a configurable delay and almost no CPU of their own.

The reference signers (`manage.py run_reference_signers`) really sign: one reference EU signer
process tops out at about 400 HC1 signatures per second on this machine (`benchmarks/eu_signer.py`),
which is below the service's target rate, and on a 2-core machine every signer CPU cycle is taken
from the service. The benchmark measures the *service*, so by default it talks to these canned
signers instead (`run_matrix.py --signers reference` uses the real ones). The service validates
only the shape of the answers (decision n), so canned answers exercise exactly the same code.

Usage: `python benchmarks/fake_signers.py --eu-port P --domestic-port Q [--eu-delay-ms N]
[--domestic-delay-ms N]`. `GET /ping` answers at once (used to calibrate the load generator).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal

from aiohttp import web

EU_CREDENTIAL = "HC1:" + (
    "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0BGJLFX3R3VHXK.PJ:2DPF6R:5SVBHABVCNN95SWMPHQU"
    "HQN%A0SOE+QQAB-HQ/HQ7IR.SQEEOK9SAI4- 7Y15KBPD34  QWSP0WRGTQFNPLIR.KQNA7N95U/3FJCTG90OARH9P1J4HGZJKBE"
    "G%123ZC$0BCI757TLXKIBTV5TN%2LXK-$CH4TSXKZ4S/$K%0KPQ1HEP9.PZE9Q$95:UENEUW6646936HRTO$9KZ56DE/.QC$Q3J6"
    "2:6LZ6O59++9-G9+E93ZM$96TV6NRNJ1"
)
DOMESTIC_QR = "NL2:" + "B" * 600
ISSUER_PK_ID = "TST-KEY-01"


def json_response(body: object) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), content_type="application/json")


def create_app(delay_ms: int) -> web.Application:
    delay = delay_ms / 1000

    async def pause() -> None:
        if delay:
            await asyncio.sleep(delay)

    async def prepare_issue(request: web.Request) -> web.Response:
        body = await request.json()
        await pause()
        return json_response(
            {
                "issuerPkId": ISSUER_PK_ID,
                "issuerNonce": secrets.token_urlsafe(16),
                "credentialAmount": body.get("credentialAmount", 1),
            }
        )

    async def issue(request: web.Request) -> web.Response:
        body = await request.json()
        await pause()
        return json_response(
            [
                {
                    "issueSignatureMessage": {"proof": {"c": "AA==", "e_response": "AA=="}, "signature": {"A": "AA=="}},
                    "attributes": list(attributes.values()) if isinstance(attributes, dict) else [],
                }
                for attributes in body.get("credentialsAttributes", [])
            ]
        )

    async def issue_static(request: web.Request) -> web.Response:
        await request.read()
        await pause()
        return json_response({"qr": DOMESTIC_QR})

    async def get_credential(request: web.Request) -> web.Response:
        await request.read()
        await pause()
        return json_response({"credential": EU_CREDENTIAL})

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.add_routes(
        [
            web.post("/prepare_issue", prepare_issue),
            web.post("/issue", issue),
            web.post("/issue_static", issue_static),
            web.post("/get_credential", get_credential),
            web.get("/ping", ping),
            web.get("/", ping),
        ]
    )
    return app


async def serve(arguments: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runners = []
    sites = ((arguments.eu_port, arguments.eu_delay_ms), (arguments.domestic_port, arguments.domestic_delay_ms))
    for port, delay in sites:
        runner = web.AppRunner(create_app(delay), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=2048).start()
        runners.append(runner)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eu-port", type=int, required=True)
    parser.add_argument("--domestic-port", type=int, required=True)
    parser.add_argument("--eu-delay-ms", type=int, default=0)
    parser.add_argument("--domestic-delay-ms", type=int, default=0)
    arguments = parser.parse_args()
    import uvloop

    uvloop.run(serve(arguments))


if __name__ == "__main__":
    main()
