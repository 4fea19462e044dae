"""A walk through the API against a running service (`bin/run`), with events signed by the
development test provider. Writes the QR codes it receives as PNG files."""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools import devenv
from devtools.reference.domestic_signer import structural_issue_commitment_message
from devtools.reference.qr import credential_png
from devtools.testprovider import ensure_dev_test_provider, make_blob


def sample_results(now: datetime) -> tuple[dict, dict]:
    """Two protocol 3.0 provider results of a fictional holder: vaccinations and a negative test."""
    holder = {"firstName": "Demi", "infix": "van", "lastName": "Testen", "birthDate": "1980-05-01"}
    vaccinations = {
        "protocolVersion": "3.0",
        "providerIdentifier": devenv.DEV_PROVIDER,
        "status": "complete",
        "holder": holder,
        "events": [
            {
                "type": "vaccination",
                "unique": f"demo-v{dose}-{secrets.token_hex(4)}",
                "isSpecimen": False,
                "vaccination": {
                    "date": (now - timedelta(days=90 - 30 * dose)).date().isoformat(),
                    "hpkCode": "2924528",
                    "doseNumber": dose,
                    "totalDoses": 2,
                    "country": "NLD",
                },
            }
            for dose in (1, 2)
        ],
    }
    test = {
        "protocolVersion": "3.0",
        "providerIdentifier": devenv.DEV_PROVIDER,
        "status": "complete",
        "holder": holder,
        "events": [
            {
                "type": "negativetest",
                "unique": f"demo-t-{secrets.token_hex(4)}",
                "isSpecimen": False,
                "negativetest": {
                    "sampleDate": (now - timedelta(hours=3)).replace(microsecond=0).isoformat(),
                    "negativeResult": True,
                    "facility": "Demo test street",
                    "type": "LP217198-3",
                    "name": "Demo rapid test",
                    "manufacturer": "1232",
                    "country": "NL",
                },
            }
        ],
    }
    return vaccinations, test


class Command(BaseCommand):
    help = (
        "Development demo: sign sample events with the dev test provider, call /app/print/ and the "
        "/app/prepare_issue/ + /app/credentials/ flow of a running service, and write the QR codes as PNG."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=os.environ.get("DEV_SERVICE_URL", "http://127.0.0.1:8000"),
            help="base URL of the running service (default: the one bin/run wrote to .dev/env)",
        )
        parser.add_argument("--out", default=".dev/demo", help="folder for the QR PNG files")

    def handle(self, *args, url: str, out: str, **options):
        signer = ensure_dev_test_provider(Path(os.environ.get("DEV_PROVIDER_FOLDER", devenv.DEV_FOLDER / "test-provider")))
        token_path = devenv.DEV_FOLDER / "print_token"
        if not token_path.exists():
            raise CommandError("no .dev/print_token: start the service with bin/run first")
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc)
        try:
            self._walk(client_url=url, signer=signer, token_path=token_path, out_dir=out_dir, now=now)
        except httpx.ConnectError:
            raise CommandError(f"cannot connect to the service at {url}: is it running? (start it with bin/run)") from None
        except httpx.TimeoutException:
            raise CommandError(f"the service at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CommandError(f"request to the service at {url} failed: {type(exc).__name__}: {exc}") from None
        self.stdout.write(f"QR codes written to {out_dir}/")

    def _walk(self, *, client_url: str, signer, token_path: Path, out_dir: Path, now: datetime) -> None:
        vaccinations, test = sample_results(now)
        with httpx.Client(base_url=client_url, timeout=30) as client:
            printed = client.post(
                "/app/print/",
                json={"events": [make_blob(vaccinations, signer)]},
                headers={"Authorization": f"Token {token_path.read_text().strip()}"},
            )
            self._check(printed, "print")
            proof = printed.json()
            if proof["european"]:
                (out_dir / "print-eu.png").write_bytes(credential_png(proof["european"]["qr"]))
            if proof["domestic"]:
                (out_dir / "print-domestic.png").write_bytes(credential_png(proof["domestic"]["qr"]))
            self.stdout.write(
                f"print: domestic {'yes' if proof['domestic'] else 'no'}, european {'yes' if proof['european'] else 'no'}"
            )

            prepared = client.post("/app/prepare_issue/")
            self._check(prepared, "prepare_issue")
            session = prepared.json()
            amount = json.loads(base64.b64decode(session["prepareIssueMessage"]))["credentialAmount"]
            credentials = client.post(
                "/app/credentials/",
                json={
                    "events": [make_blob(vaccinations, signer), make_blob(test, signer)],
                    "stoken": session["stoken"],
                    "issueCommitmentMessage": structural_issue_commitment_message(amount),
                },
            )
            self._check(credentials, "credentials")
            cards = credentials.json()
            for index, card in enumerate(cards["euGreencards"]):
                kind = card["origins"][0]["type"]
                (out_dir / f"app-eu-{index}-{kind}.png").write_bytes(credential_png(card["credential"]))
            domestic = cards["domesticGreencard"]
            self.stdout.write(
                f"credentials: {len(domestic['origins']) if domestic else 0} domestic origins, "
                f"{len(cards['euGreencards'])} EU certificates"
            )

    def _check(self, response: httpx.Response, step: str) -> None:
        if response.status_code != 200:
            raise CommandError(f"{step} failed: HTTP {response.status_code} {response.text[:300]}")
