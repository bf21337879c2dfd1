"""``python -m tuoyu_sim``."""

from __future__ import annotations

import sys

from tuoyu_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
