"""A walk through the API against a running service (`bin/run`), with events signed by the
development test provider. Writes the QR codes it receives as PNG files, and checks the domestic
ones as an app and a scanner would: the paper QR with the project's verifier, the app-flow
credentials with the project's holder (constructed, then one disclosed and verified)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError

from devtools import devenv
from devtools.reference.app_holder import app_commitments
from devtools.reference.keys import key_folder_from_environment, load_idemix_public_key, signer_idemix_key_folder
from devtools.reference.qr import credential_png
from devtools.testprovider import ensure_dev_test_provider, make_blob
from idemix import verifier
from idemix.keys import PublicKey


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


class DemoFailed(Exception):
    """A step of the demo did not succeed."""


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    paper_domestic: verifier.VerificationResult | None = None
    app_credentials: int = 0
    app_domestic: verifier.VerificationResult | None = None

    def write(self, path: Path, qr: str) -> None:
        path.write_bytes(credential_png(qr))
        self.files.append(path)


def _checked(response: httpx.Response, step: str) -> dict:
    if response.status_code != 200:
        raise DemoFailed(f"{step} failed: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def run_demo(
    client: httpx.Client, *, signer, print_token: str, public_key: PublicKey, out_dir: Path, now: datetime
) -> DemoReport:
    """The demo against the service behind `client`; `public_key` is the domestic signer's."""
    report = DemoReport()
    out_dir.mkdir(parents=True, exist_ok=True)
    unix_now = int(now.timestamp())
    vaccinations, test = sample_results(now)
    proof = _checked(
        client.post(
            "/app/print/",
            json={"events": [make_blob(vaccinations, signer)]},
            headers={"Authorization": f"Token {print_token}"},
        ),
        "print",
    )
    if proof["european"]:
        report.write(out_dir / "print-eu.png", proof["european"]["qr"])
    if proof["domestic"]:
        qr = proof["domestic"]["qr"]
        report.write(out_dir / "print-domestic.png", qr)
        keys = {_issuer_pk_id(qr): public_key}
        report.paper_domestic = verifier.verify(qr, "3G", keys, verifier.VerifierConfig(), unix_now)
    report.lines.append(
        f"print: domestic {'yes' if proof['domestic'] else 'no'}, european {'yes' if proof['european'] else 'no'}"
        + (f"; the paper QR {_verdict(report.paper_domestic)}" if report.paper_domestic else "")
    )

    session = _checked(client.post("/app/prepare_issue/"), "prepare_issue")
    app = app_commitments(session["prepareIssueMessage"], public_key)
    cards = _checked(
        client.post(
            "/app/credentials/",
            json={
                "events": [make_blob(vaccinations, signer), make_blob(test, signer)],
                "stoken": session["stoken"],
                "issueCommitmentMessage": app.icm,
            },
        ),
        "credentials",
    )
    for index, card in enumerate(cards["euGreencards"]):
        kind = card["origins"][0]["type"]
        report.write(out_dir / f"app-eu-{index}-{kind}.png", card["credential"])
    domestic = cards["domesticGreencard"]
    if domestic:
        credentials = app.construct(domestic["createCredentialMessages"])
        report.app_credentials = len(credentials)
        current = [c for c in credentials if _valid_at(c.read()[0], unix_now)]
        if current:
            qr = app.disclose(current[0], unix_now)
            report.write(out_dir / "app-domestic.png", qr)
            keys = {_issuer_pk_id(qr): public_key}
            report.app_domestic = verifier.verify(qr, "3G", keys, verifier.VerifierConfig(), unix_now)
    report.lines.append(
        f"credentials: {len(domestic['origins']) if domestic else 0} domestic origins, "
        f"{report.app_credentials} domestic credentials constructed"
        + (f" (one disclosed now: {_verdict(report.app_domestic)})" if report.app_domestic else "")
        + f", {len(cards['euGreencards'])} EU certificates"
    )
    return report


def _issuer_pk_id(qr: str) -> str:
    """The key id a domestic QR names, so that the key map names the signer's key whatever id
    the signer was started with."""
    try:
        return verifier.qr_issuer_pk_id(qr)
    except verifier.VerificationError:
        return ""


def _valid_at(values: dict[str, str], now: int) -> bool:
    try:
        verifier.check_validity(values, now)
    except verifier.VerificationError:
        return False
    return True


def _verdict(result: verifier.VerificationResult | None) -> str:
    if result is None:
        return "not checked"
    return "verifies" if result.ok else f"does NOT verify ({result.error})"


class Command(BaseCommand):
    help = (
        "Development demo: sign sample events with the dev test provider, call /app/print/ and the "
        "/app/prepare_issue/ + /app/credentials/ flow of a running service, and write the QR codes as PNG."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default=os.environ.get("DEV_SERVICE_URL", "http://127.0.0.1:8000"),
            help="base URL of the running service (default: the one bin/run wrote to .dev/env)",
        )
        parser.add_argument("--out", default=".dev/demo", help="folder for the QR PNG files")
        parser.add_argument(
            "--idemix-key-folder", default=None, help="the domestic signer's pk.xml (default: as bin/run starts the signer)"
        )

    def handle(self, *args, url: str, out: str, idemix_key_folder: str | None, **options):
        signer = ensure_dev_test_provider(Path(os.environ.get("DEV_PROVIDER_FOLDER", devenv.DEV_FOLDER / "test-provider")))
        token_path = devenv.DEV_FOLDER / "print_token"
        if not token_path.exists():
            raise CommandError("no .dev/print_token: start the service with bin/run first")
        key_folder = _idemix_folder(idemix_key_folder)
        try:
            public_key = load_idemix_public_key(key_folder)
        except FileNotFoundError:
            raise CommandError(f"no Idemix public key in {key_folder}: start the signers with bin/run first") from None
        out_dir = Path(out)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                report = run_demo(
                    client,
                    signer=signer,
                    print_token=token_path.read_text().strip(),
                    public_key=public_key,
                    out_dir=out_dir,
                    now=datetime.now(timezone.utc),
                )
        except DemoFailed as error:
            raise CommandError(str(error)) from None
        except httpx.ConnectError:
            raise CommandError(f"cannot connect to the service at {url}: is it running? (start it with bin/run)") from None
        except httpx.TimeoutException:
            raise CommandError(f"the service at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CommandError(f"request to the service at {url} failed: {type(exc).__name__}: {exc}") from None
        for line in report.lines:
            self.stdout.write(line)
        self.stdout.write(f"QR codes written to {out_dir}/")
        failed = [r for r in (report.paper_domestic, report.app_domestic) if r is not None and not r.ok]
        if failed:
            raise CommandError("a domestic QR did not verify")


def _idemix_folder(option: str | None) -> Path:
    """The domestic signer's key folder as bin/run starts it (with $EU_SIGNER_KEY_FOLDER or
    .dev/signer-keys/ as the key folder), unless given."""
    return signer_idemix_key_folder(key_folder_from_environment(), option)
