"""Where tests find the shared reference data: `../shared/reference` beside the checkout (as CI
lays it out), or `CORONACHECK_REFERENCE`."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REFERENCE = Path(os.environ.get("CORONACHECK_REFERENCE", BASE_DIR.parent / "shared" / "reference"))
