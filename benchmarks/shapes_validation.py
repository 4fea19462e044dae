"""In-process cost of request-shape validation on the hot path (issue 11, item 5).

One `POST /app/credentials/` request's validation work, without I/O, signatures or signing:

- `body`: parse the JSON body (2 blobs) and check its shape (`api.requests`);
- `payloads`: validate the two provider results inside the blobs (`events.decoding.payloads`: the
  3.0 result with four events and the 2.0 result that `events/tests/decoding/test_payloads.py`
  uses), and upgrade them to 3.0.

Prints CPU µs per request, the best of several rounds. Run: `.venv/bin/python benchmarks/shapes_validation.py`.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from api.requests import credentials_request_parse, json_body_parse
from events.decoding.payloads import upgrade, validate_provider_result
from events.tests.decoding.test_payloads import v2_document, v3_document

# The sample documents of the payload tests (events/tests/decoding/test_payloads.py).
V3_DOCUMENT = v3_document()
V2_DOCUMENT = v2_document()

DOCUMENTS = [V3_DOCUMENT, V2_DOCUMENT]


def blob(document: dict[str, Any]) -> dict[str, str]:
    payload = base64.b64encode(json.dumps(document).encode()).decode()
    return {"payload": payload, "signature": base64.b64encode(b"\x30" * 1500).decode()}


RAW_BODY = json.dumps(
    {
        "events": [blob(document) for document in DOCUMENTS],
        "stoken": str(uuid.uuid4()),
        "issueCommitmentMessage": base64.b64encode(b"x" * 600).decode(),
    }
).encode()


def body_step() -> None:
    credentials_request_parse(json_body_parse(RAW_BODY, max_depth=64))


def payloads_step() -> None:
    for index, document in enumerate(DOCUMENTS):
        upgrade(validate_provider_result(document, blob_index=index))


def request_step() -> None:
    body_step()
    payloads_step()


def best_us(step: Callable[[], None], *, number: int = 500, rounds: int = 25) -> float:
    """CPU µs per call in the best round (process time, so that other processes on a busy machine count
    less; the best round, as `timeit` advises: the others measure the machine's noise)."""
    step()
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(number):
            step()
        samples.append((time.process_time() - start) / number * 1e6)
    return min(samples)


def main() -> None:
    for name, step in (("body (JSON + shape, 2 blobs)", body_step), ("payloads (3.0 + 2.0)", payloads_step)):
        print(f"{name:36} {best_us(step):8.1f} µs")
    print(f"{'request validation, total':36} {best_us(request_step):8.1f} µs")


if __name__ == "__main__":
    main()
