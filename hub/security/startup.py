"""Production refuses to be unsafe: the checks a long-running command makes at start.

When the hub is not on its own embedded broker (``HUB_BOOTSTRAP_SERVERS`` is set), every
long-running command (``up``, ``router``, ``consent serve``, ``monitor aggregate``,
``registry``, ``connect webhook``) refuses to start when

* ``HUB_PSEUDONYM_KEY`` is unset (the public development key would make every client
  pseudonym computable by anyone);
* record security is off (``HUB_SECURITY_ENABLED=false``);
* key storage is not persistent (:func:`key_storage_problem`);
* for the commands that seal or grant subject keys (``up``, ``router``, ``consent
  serve``), with record security on: the subject keys would not be shared by the
  replicas, ``HUB_SUBJECT_MASTER_KEY`` unset (each replica would generate its own master
  key) or ``HUB_DATABASE_URL`` unset (each would keep them in a SQLite file of its own).

``HUB_ALLOW_INSECURE=true`` starts anyway, logging every waived problem at CRITICAL.
On the embedded broker (development, tests, the demo) nothing is checked. The workers a
command supervises (``up``'s router and monitor, on its own broker) are not checked
again: ``up`` checked the start.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from hub.config import HubSettings
from hub.errors import ConfigError
from hub.security.hub_identity import keys_dir

__all__ = [
    "MEMORY_FILE_SYSTEMS",
    "REQUIRED_SECRETS",
    "check_start",
    "key_storage_problem",
    "start_problems",
]

_LOG = logging.getLogger("hub.security.startup")

#: file systems whose content is lost with the process or the container's writable layer
MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs", "overlay", "aufs"})

#: secrets every replica of a production hub must share (docker-compose passes them all)
REQUIRED_SECRETS = (
    "HUB_PSEUDONYM_KEY",
    "HUB_BSN_ENCRYPTION_KEY",
    "HUB_MONITOR_KEY",
    "HUB_KEYS_PASSPHRASE",
    "HUB_SUBJECT_MASTER_KEY",
)

_MOUNTS = Path("/proc/self/mounts")


def _mounts() -> list[tuple[str, str]]:
    """(mount point, file system type) of this process's mounts; empty where unknown."""
    try:
        lines = _MOUNTS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    mounts = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3:  # octal escapes (\040) stand for spaces in mount points
            mounts.append((fields[1].encode().decode("unicode_escape"), fields[2]))
    return mounts


def _file_system_of(path: Path, mounts: Iterable[tuple[str, str]]) -> str | None:
    """The type of the file system ``path`` is (or would be) on: its longest mount point."""
    resolved = path.resolve()
    best: tuple[int, str] | None = None
    for point, fstype in mounts:
        mount = Path(point)
        if (resolved == mount or mount in resolved.parents) and (
            best is None or len(point) > best[0]
        ):
            best = (len(point), fstype)
    return best[1] if best else None


def key_storage_problem(
    settings: HubSettings, mounts: Iterable[tuple[str, str]] | None = None
) -> str | None:
    """Why the key store is not persistent, or None when it is.

    Persistent means: its place is chosen explicitly (``HUB_KEYS_DIR``, or
    ``HUB_DATA_DIR`` whose ``keys`` folder it then is), as an absolute path, on a file
    system that outlives the process and its container: not one of
    :data:`MEMORY_FILE_SYSTEMS` (memory, or a container's writable layer, lost when it is
    rebuilt: mount a volume there). ``mounts``: (mount point, type) pairs, by default
    those of ``/proc/self/mounts`` (none known: only the first two rules apply).
    """
    chosen = {"keys_dir", "data_dir"} & settings.model_fields_set
    path = keys_dir(settings)
    if not chosen:
        return (
            "the key store is not placed explicitly: set HUB_KEYS_DIR (or HUB_DATA_DIR) "
            "to a directory on a persistent volume"
        )
    setting = "HUB_KEYS_DIR" if settings.keys_dir is not None else "HUB_DATA_DIR"
    if not path.is_absolute():
        return f"{setting} must be an absolute path on a persistent volume, not {str(path)!r}"
    fstype = _file_system_of(path, _mounts() if mounts is None else mounts)
    if fstype in MEMORY_FILE_SYSTEMS:
        return (
            f"the key store {path} ({setting}) is on a {fstype} file system, lost with the "
            "process or the container: mount a persistent volume there"
        )
    return None


def start_problems(
    settings: HubSettings,
    mounts: Iterable[tuple[str, str]] | None = None,
    *,
    subject_keys: bool = True,
) -> list[str]:
    """What makes starting with ``settings`` unsafe (empty on the embedded broker);
    ``subject_keys``: the command seals or grants subject keys."""
    if settings.embedded:
        return []
    problems = []
    if settings.pseudonym_key is None or not settings.pseudonym_key.get_secret_value():
        problems.append(
            "HUB_PSEUDONYM_KEY is not set: client pseudonyms would use the public development key"
        )
    if not settings.security_enabled:
        problems.append(
            "record security is off (HUB_SECURITY_ENABLED=false): every record would be "
            "readable by whoever reads its topic"
        )
    storage = key_storage_problem(settings, mounts)
    if storage is not None:
        problems.append(storage)
    if subject_keys and settings.security_enabled:
        problems += _subject_key_problems(settings)
    return problems


def _subject_key_problems(settings: HubSettings) -> list[str]:
    """Why the replicas would not share one store of subject keys."""
    problems = []
    master = settings.subject_master_key
    if master is None or not master.get_secret_value():
        problems.append(
            "HUB_SUBJECT_MASTER_KEY is not set: each replica would generate its own master "
            "key for the subject keys they share, and open none of the others'"
        )
    if not settings.database_url:
        problems.append(
            "HUB_DATABASE_URL is not set: the subject keys (and consents) would live in a "
            "SQLite file of this replica, not shared by the others"
        )
    return problems


def check_start(
    settings: HubSettings,
    command: str,
    mounts: Iterable[tuple[str, str]] | None = None,
    *,
    subject_keys: bool = True,
) -> None:
    """Refuse (ConfigError naming every setting at fault) to start ``command`` unsafely;
    with ``HUB_ALLOW_INSECURE=true`` log each problem at CRITICAL and go on.
    ``subject_keys``: the command seals or grants subject keys (router, consent service)."""
    problems = start_problems(settings, mounts, subject_keys=subject_keys)
    if not problems:
        return
    if settings.allow_insecure:
        for problem in problems:
            _LOG.critical(
                "INSECURE START of %s (HUB_ALLOW_INSECURE=true, pid %d): %s",
                command,
                os.getpid(),
                problem,
            )
        return
    listed = "; ".join(problems)
    raise ConfigError(
        f"{command} refuses to start on the cluster {settings.bootstrap_servers}: {listed} "
        "(HUB_ALLOW_INSECURE=true starts anyway, for tests and migrations only)"
    )
