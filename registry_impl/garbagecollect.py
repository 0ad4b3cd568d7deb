"""``registry garbage-collect [--dry-run] [--delete-untagged] [--online] [CONFIG]``: GC of the configured storage.

Reads the same configuration as ``registry serve`` (file plus ``REGISTRY_*`` overrides), runs
``registry_impl.storage.gc.collect_garbage`` on its storage driver and prints one line per deletion and a
summary, as distribution's ``registry garbage-collect`` does. Stop the registry (or make it read-only) first;
or, with ``--online``, run ``registry_impl.storage.onlinegc`` against the storage of a registry that keeps
serving (blobs younger than ``storage.maintenance.gc.graceperiod`` stay).
"""

from __future__ import annotations

import argparse
import sys

from registry_impl.config import ConfigError, load_config

#: Seconds ``--online`` waits for a collection in progress (a server's schedule, another command) to end.
ONLINE_WAIT = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="distribution config.yml (default: embedded config)")
    parser.add_argument("--dry-run", "-d", action="store_true", help="print what would go, change nothing")
    parser.add_argument(
        "--delete-untagged",
        "-m",
        action="store_true",
        help="also delete manifests no tag points at (index children and referrers of kept manifests stay)",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="collect while the registry serves pushes (storage.maintenance.gc.graceperiod applies)",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here: ``registry serve`` builds this command's parser too and must not load the storage.
    from registry_impl.storage.cache.base import NoCache
    from registry_impl.storage.driver import factory
    from registry_impl.storage.driver.base import StorageDriverError
    from registry_impl.storage.gc import GCError, collect_garbage
    from registry_impl.storage.onlinegc import GCBusy, collect_garbage_online
    from registry_impl.storage.registry import Registry

    try:
        config = load_config(args.config)
        storage = config.storage
        driver = factory.create(storage.driver_name, dict(storage.driver_params))
        registry = Registry(driver, cache=NoCache())
        if args.online:
            report = collect_garbage_online(
                registry,
                grace=storage.maintenance.gc.graceperiod,
                dry_run=args.dry_run,
                delete_untagged=args.delete_untagged,
                wait=ONLINE_WAIT,
            )
        else:
            report = collect_garbage(registry, dry_run=args.dry_run, delete_untagged=args.delete_untagged)
    except ConfigError as exc:
        print(f"registry: configuration error: {exc}", file=sys.stderr)
        return 1
    except GCBusy as exc:
        print(f"registry: garbage-collect: {exc}", file=sys.stderr)
        return 1
    except (GCError, StorageDriverError, OSError) as exc:
        print(f"registry: garbage-collect failed, nothing was deleted: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0
