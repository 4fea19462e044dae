"""Development and test secrets, created on first use in a git-ignored folder.

The implementation is production code (`common.devdefaults`): the settings create the same
development defaults on first use in development mode. `bin/run` and the test settings call
`ensure_dev_secrets` through here.
"""

from __future__ import annotations

from common.devdefaults import ensure_dev_secrets

__all__ = ["ensure_dev_secrets"]
