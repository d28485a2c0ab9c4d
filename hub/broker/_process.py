"""Operating-system helpers for the embedded broker: ports, /proc, parent-death signal.

Everything Linux-specific degrades to "unknown" (``None``) or a no-op elsewhere, so the
launcher still works on macOS, only with fewer guarantees against orphans and port races.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "format_address",
    "log_tail",
    "parent_death_preexec",
    "pick_free_port",
    "pid_listens_on",
    "port_in_use",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def log_tail(path: Path, *, start: int = 0, lines: int = 20, max_bytes: int = 4_000) -> str:
    """The last ``lines`` of a child's log file written after offset ``start`` (reading at
    most its last ``max_bytes``; colour codes removed), or '' when there is none: what a
    process said before it died."""
    try:
        with path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(start, size - max_bytes))
            data = log.read()
    except OSError:
        return ""
    found = _ANSI.sub("", data.decode("utf-8", errors="replace")).strip().splitlines()
    return "\n".join(found[-lines:])


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TCP_LISTEN = "0A"  # socket state column of /proc/net/tcp{,6}


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def format_address(host: str, port: int) -> str:
    """``host:port`` as Kafka clients expect it, bracketing IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def pick_free_port(host: str) -> int:
    """A port that is free on ``host`` right now (the kernel picks it; we release it).

    Another process may take it before the broker binds it; callers retry on that.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    """True when something already binds ``host:port``.

    Uses ``SO_REUSEADDR`` like the broker does, so a port that only lingers in
    TIME_WAIT after a previous broker counts as free. Other bind errors (address not
    local, privileged port) propagate as :class:`OSError`.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
        return False


def _listening_inodes(port: int) -> set[str] | None:
    inodes: set[str] = set()
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _TCP_LISTEN and int(local.rpartition(":")[2], 16) == port:
                inodes.add(inode)
    return inodes if found_table else None


def pid_listens_on(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` owns a listening TCP socket on ``port``.

    Read from /proc (Linux); ``None`` when that cannot be determined. This tells our
    broker apart from a foreign one that grabbed the same port first: both answer
    metadata requests, but only one is ours.
    """
    inodes = _listening_inodes(port)
    if inodes is None:
        return None
    if not inodes:
        return False
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        fds = list(fd_dir.iterdir())
    except FileNotFoundError:
        return False  # the process is gone
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def parent_death_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive SIGTERM when its parent dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); ``None`` elsewhere or when libc has no
    ``prctl``. It covers what ``atexit`` cannot: the parent killed by SIGKILL or
    crashing hard.

    Caveat from prctl(2): the "parent" is the *thread* that forked the child. If the
    broker is started from a thread that later exits, the broker receives SIGTERM at
    that moment. So the signal is only armed when called from the main thread; from
    any other thread this returns ``None`` and the caller relies on ``atexit`` and the
    process group alone.

    libc is loaded here, in the parent, so the child only makes two system calls
    between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()
    sigterm = int(signal.SIGTERM)

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        # The parent may have died between fork() and prctl(): then nobody would ever
        # send the signal, so leave now instead of becoming an orphan.
        if os.getppid() != parent:
            os._exit(1)

    return arm
