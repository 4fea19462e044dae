"""`python -m devtools.reference`: run both reference signers (same options as run_reference_signers)."""

from __future__ import annotations

import argparse
import sys

from devtools.reference.server import add_signer_arguments, options_from_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.reference", description=__doc__)
    add_signer_arguments(parser)
    return run(options_from_arguments(parser.parse_args(argv)), announce=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
