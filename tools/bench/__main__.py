"""``python -m registry_toolkit.bench``: the same as ``registry-bench``."""

from __future__ import annotations

import sys

from registry_toolkit.bench.cli import main

sys.exit(main())
