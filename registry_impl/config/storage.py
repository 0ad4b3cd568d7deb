"""The ``storage`` section: one driver named by its key, plus delete, redirect, cache and maintenance."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError
from .model import (
    CacheConfig,
    DeleteConfig,
    FilesystemConfig,
    MaintenanceConfig,
    OnlineGCConfig,
    ReadOnlyConfig,
    RedirectConfig,
    StorageConfig,
    UploadPurgingConfig,
)
from .params import get_bool, get_duration, get_int, get_str, section, warn_unknown_keys

__all__ = ["NON_DRIVER_KEYS", "build_storage"]

log = logging.getLogger("registry.config")

# Keys of ``storage`` that are not drivers (``tag`` is distribution 3's).
NON_DRIVER_KEYS = frozenset({"maintenance", "cache", "delete", "redirect", "tag"})

_FILESYSTEM_MIN_THREADS = 25
_S3_PARAMS = frozenset(
    {
        "region", "bucket", "regionendpoint", "forcepathstyle", "accesskey", "secretkey", "sessiontoken",
        "encrypt", "keyid", "secure", "skipverify", "v4auth", "chunksize", "multipartcopychunksize",
        "multipartcopymaxconcurrency", "multipartcopythresholdsize", "multipartcombinesmallpart",
        "rootdirectory", "storageclass", "objectacl", "accelerate", "usedualstack", "usefipsendpoint", "loglevel",
        "useragent", "checksumdisabled", "checksumalgorithm",
    }
)  # fmt: skip
_DRIVER_PARAMS = {
    "filesystem": frozenset({"rootdirectory", "maxthreads", "fsync"}),
    "inmemory": frozenset(),
    "s3": _S3_PARAMS,
}
_CACHE_KINDS = ("inmemory", "redis", "")


def build_storage(storage: Mapping[str, Mapping[str, Any]]) -> StorageConfig:
    """The typed ``storage`` section; exactly one driver key is required."""
    drivers = sorted(name for name in storage if name not in NON_DRIVER_KEYS)
    if not drivers:
        raise ConfigError("storage", "no storage driver configured (e.g. storage.filesystem)")
    if len(drivers) > 1:
        raise ConfigError(
            "storage", f"exactly one storage driver may be configured, found {', '.join(drivers)}"
        )
    name = drivers[0]
    params = dict(storage[name])
    if name in _DRIVER_PARAMS:
        warn_unknown_keys(params, _DRIVER_PARAMS[name], f"storage.{name}")
    filesystem = None
    if name == "filesystem":
        filesystem = _filesystem(params)
        params.update(
            rootdirectory=filesystem.rootdirectory, maxthreads=filesystem.maxthreads, fsync=filesystem.fsync
        )
    delete = section(storage, "delete", "storage")
    redirect = section(storage, "redirect", "storage")
    warn_unknown_keys(delete, frozenset({"enabled"}), "storage.delete")
    warn_unknown_keys(redirect, frozenset({"disable"}), "storage.redirect")
    return StorageConfig(
        driver_name=name,
        driver_params=params,
        filesystem=filesystem,
        delete=DeleteConfig(get_bool(delete, "enabled", "storage.delete", False)),
        redirect=RedirectConfig(get_bool(redirect, "disable", "storage.redirect", False)),
        cache=_cache(section(storage, "cache", "storage")),
        maintenance=_maintenance(section(storage, "maintenance", "storage")),
        tag=dict(section(storage, "tag", "storage")),
    )


def _filesystem(params: Mapping[str, Any]) -> FilesystemConfig:
    key = "storage.filesystem"
    rootdirectory = get_str(params, "rootdirectory", key, FilesystemConfig.rootdirectory)
    if not rootdirectory:
        raise ConfigError(f"{key}.rootdirectory", "must not be empty")
    maxthreads = get_int(params, "maxthreads", key, FilesystemConfig.maxthreads, minimum=0)
    return FilesystemConfig(rootdirectory, max(maxthreads, _FILESYSTEM_MIN_THREADS), _fsync(params, key))


def _fsync(params: Mapping[str, Any], key: str) -> bool | str:
    """``fsync``: a boolean or ``commit``; the words ``true`` and ``false`` too (``REGISTRY_*`` overrides)."""
    value = params.get("fsync", FilesystemConfig.fsync)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word == "commit":
        return word
    if word in ("true", "false"):
        return word == "true"
    raise ConfigError(f"{key}.fsync", f"expected true, false or commit, got {value!r}")


def _cache(cache: Mapping[str, Any]) -> CacheConfig:
    key = "storage.cache"
    warn_unknown_keys(cache, frozenset({"blobdescriptor", "layerinfo", "blobdescriptorsize"}), key)
    name = "blobdescriptor" if "blobdescriptor" in cache else "layerinfo"  # layerinfo: the old name
    kind = get_str(cache, name, key)
    if kind not in _CACHE_KINDS:
        log.warning("%s.%s: unknown cache type %r, caching disabled", key, name, kind)
        kind = ""
    size = get_int(cache, "blobdescriptorsize", key, CacheConfig.blobdescriptorsize, minimum=0)
    return CacheConfig(kind, size)


def _maintenance(maintenance: Mapping[str, Any]) -> MaintenanceConfig:
    key = "storage.maintenance"
    warn_unknown_keys(maintenance, frozenset({"uploadpurging", "readonly", "gc"}), key)
    purging = section(maintenance, "uploadpurging", key)
    readonly = section(maintenance, "readonly", key)
    purge_key, readonly_key = f"{key}.uploadpurging", f"{key}.readonly"
    warn_unknown_keys(purging, frozenset({"enabled", "age", "interval", "dryrun"}), purge_key)
    warn_unknown_keys(readonly, frozenset({"enabled"}), readonly_key)
    defaults = UploadPurgingConfig()
    upload_purging = UploadPurgingConfig(
        enabled=get_bool(purging, "enabled", purge_key, defaults.enabled),
        age=get_duration(purging, "age", purge_key, defaults.age),
        interval=get_duration(purging, "interval", purge_key, defaults.interval),
        dryrun=get_bool(purging, "dryrun", purge_key, defaults.dryrun),
    )
    if upload_purging.enabled and upload_purging.interval.total_seconds() <= 0:
        raise ConfigError(f"{purge_key}.interval", "must be positive")
    return MaintenanceConfig(
        upload_purging,
        ReadOnlyConfig(get_bool(readonly, "enabled", readonly_key, False)),
        _online_gc(section(maintenance, "gc", key), f"{key}.gc"),
    )


def _online_gc(gc: Mapping[str, Any], key: str) -> OnlineGCConfig:
    warn_unknown_keys(gc, frozenset({"enabled", "interval", "graceperiod", "deleteuntagged", "dryrun"}), key)
    d = OnlineGCConfig()
    config = OnlineGCConfig(
        enabled=get_bool(gc, "enabled", key, d.enabled),
        interval=get_duration(gc, "interval", key, d.interval),
        graceperiod=get_duration(gc, "graceperiod", key, d.graceperiod),
        deleteuntagged=get_bool(gc, "deleteuntagged", key, d.deleteuntagged),
        dryrun=get_bool(gc, "dryrun", key, d.dryrun),
    )
    if config.enabled and config.interval.total_seconds() <= 0:
        raise ConfigError(f"{key}.interval", "must be positive")
    if config.graceperiod.total_seconds() < 0:
        raise ConfigError(f"{key}.graceperiod", "must not be negative")
    return config
