"""Prepare the benchmark database and request bodies (run by `run_matrix.py` with its environment).

Migrates the database, registers the development test provider (its signer certificate pinned),
creates a print token and pre-signs the provider results once: signing blobs is the client's
cost, not the server's. Writes `{print_events, credentials_events, icm, print_token}` as JSON to
the path given as the only argument.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from devtools.reference.domestic_signer import structural_issue_commitment_message as structural_icm  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")


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
