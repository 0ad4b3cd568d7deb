"""``python -m registry_toolkit.token_server``."""

from __future__ import annotations

import sys

from registry_toolkit.token_server.cli import main

sys.exit(main())
