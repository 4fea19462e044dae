"""The container's health check: `python -m coronacheck.healthcheck` exits 0 when `GET /health`
of the local service answers 200 (it always does while the process serves requests).

It sends the first of `ALLOWED_HOSTS` as the Host header, so that the check passes the host
validation of a production configuration. No Django import: it runs in a fresh interpreter
every few seconds.
"""

from __future__ import annotations

import http.client
import os
import sys

from common.envtools import parse_list


def main() -> int:
    hosts = parse_list("ALLOWED_HOSTS", os.environ.get("ALLOWED_HOSTS", "localhost"))
    host = next((h for h in hosts if h not in ("*", "") and not h.startswith(".")), "localhost")
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=3)
    try:
        connection.request("GET", "/health", headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"health check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
