"""Prepare the development environment for `bin/run` (see devtools/devenv.py)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from devtools import devenv


class Command(BaseCommand):
    help = (
        "Development only: create secrets and keys in .dev/ (git-ignored), migrate the embedded "
        "database, register the dev test provider and a print token, and write .dev/env for bin/run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="the API's port")
        parser.add_argument("--domestic-port", type=int, default=4001)
        parser.add_argument("--eu-port", type=int, default=4002)
        parser.add_argument("--inge6-port", type=int, default=4003)
        parser.add_argument("--rvig-port", type=int, default=4004)

    def handle(self, *args, host: str, port: int, domestic_port: int, eu_port: int, inge6_port: int, rvig_port: int, **options):
        env = devenv.dev_environment(
            host=host, domestic_port=domestic_port, eu_port=eu_port, inge6_port=inge6_port, rvig_port=rvig_port
        )
        env["DEV_SERVICE_URL"] = f"http://{host}:{port}"
        devenv.env_file_write(env, devenv.DEV_FOLDER / "env")
        call_command("migrate", interactive=False, verbosity=0)
        devenv.dev_provider_register()
        devenv.dev_print_token()
        self.stdout.write(f"development environment ready in {devenv.DEV_FOLDER}")
