"""Real registry processes on loopback for the interop, stress and hostile tiers.

The starter is shared with the benchmark and lives in the package (``registry_toolkit.processes``); the tests
import it under this name, with the same public names.
"""

from __future__ import annotations

from registry_toolkit.processes import *  # noqa: F403 - this module is the package module under a test name
from registry_toolkit.processes import __all__ as __all__
