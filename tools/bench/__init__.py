"""registry_toolkit.bench: ``registry-bench``, our registry against the reference (distribution 2.8.2) on loopback.

Modules, by what each owns::

    cli.py           the command line: profiles, the order of rounds, exit codes
    profiles.py      sizes and durations of --smoke / --quick / the full run
    prerequisites.py the external binaries (docker-registry, wrk, ab, nginx, curl): find or apt-get install
    servers.py       the bench settings over registry_toolkit.processes (the starter the tests use too);
                     nginx; process-tree RSS and CPU sampling
    payloads.py      blob files streamed from disk, each push with a fresh digest; the catalog seed layout
    loads.py         wrk / ab / curl wrappers and the parsers of their output
    transfers.py     the registry protocol steps of a push and a pull (monolithic, single POST, chunked)
    rawhttp.py       the chunked push's client: one keep-alive connection, bodies sent with sendfile
    scenarios.py     each measurement, returning samples
    report.py        samples → the table, the JSON document and the last ``ratios:`` line
    machine.py       what a run ran on: date, CPUs, kernel, and the medium (disk or tmpfs) under a data dir
    readme.py        the README's block of figures: rendered from run documents, parsed back, embedded
"""

from __future__ import annotations
