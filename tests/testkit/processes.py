"""Real registry processes on loopback for the interop, stress and hostile tiers.

The starter is shared with the benchmark and lives in the package (``registry_toolkit.processes``); the tests
import it under this name.
"""

from __future__ import annotations

from registry_toolkit.processes import (
    READY_TIMEOUT,
    REFERENCE_ENV_DROP,
    STOP_TIMEOUT,
    Server,
    ServerFailed,
    Spawner,
    clean_environ,
    free_port,
    launch,
    merge,
    ours_command,
    reference_command,
    run_to_exit,
    spawn,
    start_ours,
    start_reference,
    wait_ready,
    write_config,
)

__all__ = [
    "READY_TIMEOUT",
    "REFERENCE_ENV_DROP",
    "STOP_TIMEOUT",
    "Server",
    "ServerFailed",
    "Spawner",
    "clean_environ",
    "free_port",
    "launch",
    "merge",
    "ours_command",
    "reference_command",
    "run_to_exit",
    "spawn",
    "start_ours",
    "start_reference",
    "wait_ready",
    "write_config",
]
