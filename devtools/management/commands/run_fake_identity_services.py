"""`manage.py run_fake_identity_services`: the fake Inge-6 and fake RVIG on loopback (development only)."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.fakes import FakeControls, inge6_app_from_settings, rvig_app


async def serve(host: str, inge6_port: int, rvig_port: int, ready: asyncio.Event | None = None) -> None:
    """Run both fakes until SIGTERM or SIGINT, then close them cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    controls = FakeControls()
    runners = []
    try:
        for app, port in ((inge6_app_from_settings(controls), inge6_port), (rvig_app(controls=controls), rvig_port)):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, host, port).start()
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


class Command(BaseCommand):
    help = "Run a fake Inge-6 and a fake RVIG for development (never in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--inge6-port", type=int, default=4003)
        parser.add_argument("--rvig-port", type=int, default=4004)

    def handle(self, *args, host: str, inge6_port: int, rvig_port: int, **options):
        self.stdout.write(
            f"fake Inge-6 on http://{host}:{inge6_port}/bsn_attribute, "
            f"fake RVIG on http://{host}:{rvig_port}/gba-v/online/lo3services/adhoc"
        )
        self.stdout.flush()
        try:
            asyncio.run(serve(host, inge6_port, rvig_port))
        except OSError as error:  # typically a port in use
            raise CommandError(f"cannot listen on {host}:{inge6_port}/{rvig_port}: {error.strerror or error}") from None
        self.stdout.write("stopped")
