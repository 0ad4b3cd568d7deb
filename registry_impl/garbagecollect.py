"""``registry garbage-collect [--dry-run] [--delete-untagged] [CONFIG]``: offline GC of the configured storage.

Reads the same configuration as ``registry serve`` (file plus ``REGISTRY_*`` overrides), runs
``registry_impl.storage.gc.collect_garbage`` on its storage driver and prints one line per deletion and a
summary, as distribution's ``registry garbage-collect`` does. Stop the registry (or make it read-only) first.
"""

from __future__ import annotations

import argparse
import sys

from registry_impl.config import ConfigError, load_config
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.driver import factory
from registry_impl.storage.driver.base import StorageDriverError
from registry_impl.storage.gc import GCError, collect_garbage
from registry_impl.storage.registry import Registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="distribution config.yml (default: embedded config)")
    parser.add_argument("--dry-run", "-d", action="store_true", help="print what would go, change nothing")
    parser.add_argument(
        "--delete-untagged",
        "-m",
        action="store_true",
        help="also delete manifests no tag points at (index children and referrers of kept manifests stay)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        storage = config.storage
        driver = factory.create(storage.driver_name, dict(storage.driver_params))
        report = collect_garbage(
            Registry(driver, cache=NoCache()), dry_run=args.dry_run, delete_untagged=args.delete_untagged
        )
    except ConfigError as exc:
        print(f"registry: configuration error: {exc}", file=sys.stderr)
        return 1
    except (GCError, StorageDriverError, OSError) as exc:
        print(f"registry: garbage-collect failed, nothing was deleted: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0
