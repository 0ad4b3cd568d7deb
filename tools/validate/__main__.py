"""``python -m registry_toolkit.validate``: the same as ``registry-validate``."""

from __future__ import annotations

import sys

from registry_toolkit.validate.cli import main

sys.exit(main())
