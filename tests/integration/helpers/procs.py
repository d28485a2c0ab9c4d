"""Process and socket probes for the broker launcher tests (Linux: reads /proc)."""

from __future__ import annotations

import socket
from pathlib import Path

__all__ = ["alive", "children", "port_of", "refuses"]


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process from /proc, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rpartition(")")[2].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (its new parent may not reap)."""
    found = proc_stat(pid)
    return found is not None and found[0] not in ("Z", "X")


def children(ppid: int) -> set[int]:
    """Live child pids of ``ppid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None and stat[1] == ppid and stat[0] not in ("Z", "X"):
                found.add(int(entry.name))
    return found


def refuses(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])
