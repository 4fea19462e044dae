"""Prepare the development environment for `bin/run` (see coronacheck/devenv.py)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from devtools import devenv


class Command(BaseCommand):
    help = (
        "Development only: create secrets and keys in .dev/ (git-ignored), migrate the embedded "
        "database, register the dev test provider and a print token, and write .dev/env for bin/run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host: str, **options):
        env = devenv.dev_environment(host=host)
        devenv.env_file_write(env, devenv.DEV_FOLDER / "env")
        call_command("migrate", interactive=False, verbosity=0)
        devenv.dev_provider_register()
        devenv.dev_print_token()
        self.stdout.write(f"development environment ready in {devenv.DEV_FOLDER}")
