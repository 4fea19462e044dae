"""Prepare the benchmark database and request bodies (run by `run_matrix.py` with its environment).

Migrates the database, registers the development test provider (its signer certificate pinned),
creates a print token and pre-signs the provider results once: signing blobs is the client's
cost, not the server's. Writes `{print_events, credentials_events, icm, print_token}` as JSON to
the path given as the only argument.

`icm` is one structural issue commitment message reused by every request: right for the canned
signers (`fake_signers.py`, which check shapes only). The reference domestic signer verifies the
commitments against each session's own nonce and refuses it, so with `run_matrix.py --signers
reference` the `/app/credentials/` rows measure the domestic failure path (502); a real
commitment per request (`devtools.reference.app_holder`) would put about 100 ms of the app's
arithmetic per request into the load generator.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")


def structural_icm(amount: int) -> str:
    """Base64 of an issue commitment message with the structure of a real one (`n_2` and `amount`
    combined proofs) and random numbers in place of proofs: for the canned signers only."""
    number = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    proofs = [{"U": number, "c": number, "v_prime_response": number, "s_response": number} for _ in range(amount)]
    return base64.b64encode(json.dumps({"n_2": number, "combinedProofs": proofs}).encode()).decode("ascii")


def provider_result(now: datetime, provider: str) -> dict:
    def vaccination(days_ago: int, dose: int) -> dict:
        date = (now - timedelta(days=days_ago)).date().isoformat()
        return {
            "type": "vaccination",
            "unique": f"bench-v-{dose}",
            "isSpecimen": False,
            "vaccination": {"date": date, "hpkCode": "2924528", "doseNumber": dose, "totalDoses": 2, "country": "NLD"},
        }

    return {
        "protocolVersion": "3.0",
        "providerIdentifier": provider,
        "status": "complete",
        "holder": {"firstName": "Bench", "infix": "", "lastName": "Proefpersoon", "birthDate": "1980-05-17"},
        "events": [vaccination(60, 1), vaccination(30, 2)],
    }


def main(output: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from devtools.devenv import DEV_PROVIDER, dev_provider_register
    from devtools.testprovider import ensure_dev_test_provider, make_blob
    from events.rules.config import credential_amount
    from events.selectors import config_snapshot_get_sync
    from signing.services import print_token_create

    dev_provider_register()
    signer = ensure_dev_test_provider(BASE_DIR / ".dev" / "test-provider")
    _, token = print_token_create(client_name="benchmark")
    blob = make_blob(provider_result(datetime.now(UTC), DEV_PROVIDER), signer)
    amount = credential_amount(config_snapshot_get_sync().rules)
    output.write_text(
        json.dumps({"print_events": [blob], "credentials_events": [blob], "icm": structural_icm(amount), "print_token": token})
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
