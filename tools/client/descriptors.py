"""The descriptor model for the client: the protocol core's (:mod:`registry_spec.protocol.descriptors`), plus the
one thing only a client asks: which platform this machine is."""

from __future__ import annotations

import platform as _platform

from registry_spec.protocol.descriptors import NON_DISTRIBUTABLE, Descriptor, Manifest, Platform

__all__ = ["NON_DISTRIBUTABLE", "Descriptor", "Manifest", "Platform", "host_platform"]


def host_platform() -> Platform:
    """The platform of this machine, in Go's names (what ``docker pull`` and skopeo choose by default)."""
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}.get(
        machine, machine
    )
    return Platform("linux", arch)
