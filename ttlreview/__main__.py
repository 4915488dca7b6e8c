"""``python -m ttlreview review|export``: the CLI commands without the cachewatch entry point."""

from __future__ import annotations

import sys

from ttlreview.cli import main

sys.exit(main())
