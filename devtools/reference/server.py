"""Run both reference signers in one process on one event loop, each on its own port.

Used by `manage.py run_reference_signers` and `python -m devtools.reference`. Stops cleanly
(exit status 0) on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import uvloop
from aiohttp import web

from devtools.reference.domestic_signer import (
    DEFAULT_ISSUER_PK_ID,
    DEFAULT_PRIME_POOL_SIZE,
    DEFAULT_WORKERS,
    DomesticSignerConfig,
    create_domestic_app,
)
from devtools.reference.eu_signer import create_eu_app
from devtools.reference.faults import FAULT_MODES, SignerBehaviour
from devtools.reference.hcert import DEFAULT_ISSUER
from devtools.reference.keys import (
    generate_idemix_keys,
    generate_signer_keys,
    has_idemix_keys,
    has_signer_keys,
    key_folder_from_environment,
    load_idemix_keys,
    load_signer_keys,
    signer_idemix_key_folder,
)

FAULT_ENV = "REFERENCE_SIGNER_FAULT"


@dataclass
class SignerOptions:
    host: str = "127.0.0.1"
    eu_port: int = 4002
    domestic_port: int = 4001
    key_folder: Path = field(default_factory=key_folder_from_environment)
    eu_delay_ms: int = 0
    domestic_delay_ms: int = 0
    fault: str = "none"
    fault_control: bool = False
    issuer: str = DEFAULT_ISSUER
    issuer_pk_id: str = DEFAULT_ISSUER_PK_ID
    idemix_key_folder: Path | None = None
    domestic_workers: int = DEFAULT_WORKERS
    prime_pool_size: int = DEFAULT_PRIME_POOL_SIZE

    @property
    def idemix_folder(self) -> Path:
        return signer_idemix_key_folder(self.key_folder, self.idemix_key_folder)


def add_signer_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options shared by the management command and `python -m`."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--eu-port", type=int, default=4002)
    parser.add_argument("--domestic-port", type=int, default=4001)
    parser.add_argument(
        "--key-folder", default=None, help="EU signer DSC keys (default: $EU_SIGNER_KEY_FOLDER or .dev/signer-keys/)"
    )
    parser.add_argument("--eu-delay-ms", type=int, default=0)
    parser.add_argument("--domestic-delay-ms", type=int, default=0)
    parser.add_argument(
        "--fault",
        choices=FAULT_MODES,
        default=os.environ.get(FAULT_ENV, "none"),
        help=f"answer the signing routes with this fault (default: ${FAULT_ENV} or none)",
    )
    parser.add_argument(
        "--fault-control",
        action="store_true",
        help="allow POST /_reference/behaviour to change fault and delay at run time (tests)",
    )
    parser.add_argument("--issuer", default=DEFAULT_ISSUER, help="EU issuer country (CWT iss)")
    parser.add_argument("--issuer-pk-id", default=DEFAULT_ISSUER_PK_ID, help="domestic issuerPkId (the key id)")
    parser.add_argument(
        "--idemix-key-folder",
        default=None,
        help="domestic signer's gabi XML pair pk.xml/sk.xml (default: the key folder's idemix/ subfolder if it "
        "holds a pair, else the TEST ONLY pair of ../shared/reference/keys/idemix, else a pair generated "
        "in the idemix/ subfolder)",
    )
    parser.add_argument(
        "--domestic-workers", type=int, default=DEFAULT_WORKERS, help="processes that issue (0: one thread, tests)"
    )
    parser.add_argument("--prime-pool-size", type=int, default=DEFAULT_PRIME_POOL_SIZE, help="buffered e primes")


def options_from_arguments(arguments: argparse.Namespace | dict) -> SignerOptions:
    values = vars(arguments) if isinstance(arguments, argparse.Namespace) else arguments
    return SignerOptions(
        host=values["host"],
        eu_port=values["eu_port"],
        domestic_port=values["domestic_port"],
        key_folder=key_folder_from_environment(values.get("key_folder")),
        eu_delay_ms=values["eu_delay_ms"],
        domestic_delay_ms=values["domestic_delay_ms"],
        fault=values["fault"],
        fault_control=values["fault_control"],
        issuer=values["issuer"],
        issuer_pk_id=values["issuer_pk_id"],
        idemix_key_folder=Path(values["idemix_key_folder"]) if values.get("idemix_key_folder") else None,
        domestic_workers=values.get("domestic_workers", DEFAULT_WORKERS),
        prime_pool_size=values.get("prime_pool_size", DEFAULT_PRIME_POOL_SIZE),
    )


async def serve(options: SignerOptions, stop: asyncio.Event, announce: Callable[[str], None] = print) -> None:
    """Start both apps, announce their URLs, run until `stop` is set, then clean up."""
    if not has_signer_keys(options.key_folder):
        generate_signer_keys(options.key_folder, now=datetime.now(UTC))
        announce(f"Generated EU signer keys in {options.key_folder}")
    idemix_folder = options.idemix_folder
    if not has_idemix_keys(idemix_folder):
        announce(f"Generating a development Idemix key pair in {idemix_folder} (2048 bits, safe primes) ...")
        await asyncio.to_thread(generate_idemix_keys, idemix_folder, progress=_progress(announce))
        announce(f"Generated the domestic signer's Idemix key pair in {idemix_folder}")
    public, secret = load_idemix_keys(idemix_folder)
    eu_app = create_eu_app(
        load_signer_keys(options.key_folder),
        issuer=options.issuer,
        behaviour=SignerBehaviour(delay_ms=options.eu_delay_ms, fault=options.fault),
        behaviour_control=options.fault_control,
    )
    domestic_app = create_domestic_app(
        DomesticSignerConfig(
            issuer_pk_id=options.issuer_pk_id,
            public=public,
            secret=secret,
            workers=options.domestic_workers,
            prime_pool_size=options.prime_pool_size,
        ),
        behaviour=SignerBehaviour(delay_ms=options.domestic_delay_ms, fault=options.fault),
        behaviour_control=options.fault_control,
    )
    runners = [web.AppRunner(eu_app, access_log=None), web.AppRunner(domestic_app, access_log=None)]
    try:
        for runner, port in zip(runners, (options.eu_port, options.domestic_port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, options.host, port, shutdown_timeout=1.0).start()
        base = f"http://{options.host}"
        announce(f"EU signer:       {base}:{options.eu_port}/get_credential  (public keys: /public_keys)")
        announce(
            f"Domestic signer: {base}:{options.domestic_port}/prepare_issue, /issue, /issue_static  "
            f"(Idemix key {options.issuer_pk_id} from {idemix_folder})"
        )
        await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def _progress(announce: Callable[[str], None]) -> Callable[[str, int], None]:
    def progress(stage: str, count: int) -> None:
        if stage == "safe prime found":
            announce(f"  safe prime found after {count} candidates")
        elif stage == "safe prime candidates" and count % 5000 == 0:
            announce(f"  {count} safe prime candidates tried")
        elif stage == "bases" and count % 4 == 0:
            announce(f"  {count} bases")

    return progress


def run(options: SignerOptions, announce: Callable[[str], None] = print) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status (0 on a clean stop)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(options, stop, announce)

    uvloop.run(main())
    announce("Reference signers stopped")
    return 0
