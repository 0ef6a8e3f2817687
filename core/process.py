"""Which process holds a lease, and whether that process is gone.

A process is named by the machine's boot, its PID namespace, its PID and its start time
(`boot/pidns/pid/start`), read from Linux's /proc. Another process with the same boot and
PID namespace can then tell for sure whether the holder still runs: a PID that is free, or
taken by a process started at another time, means the holder is gone (a PID is reused, a
start time with it is not). A holder from another machine, another container or another
boot cannot be checked from here: it is never called gone, and its lease runs out instead.
Off Linux a process has no name (None) and leases only run out.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PROC = Path("/proc")


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat);
    None when there is no such process, or only its corpse (a zombie: killed, not reaped)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start = fields[0], fields[19]
    return None if state in ("Z", "X") else start


def _namespace() -> str | None:
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{pid_namespace}"


@functools.cache
def _here() -> str | None:
    return _namespace()


def process_identity(pid: int | None = None) -> str | None:
    """This process's name (or `pid`'s, on this machine), None where it cannot be had."""
    here = _here()
    pid = os.getpid() if pid is None else pid
    start = _start_ticks(pid)
    if here is None or start is None:
        return None
    return f"{here}/{pid}/{start}"


def process_gone(identity: str) -> bool:
    """Whether the process named `identity` surely no longer runs (see the module)."""
    here = _here()
    where, _, rest = identity.rpartition("/")
    namespace, _, pid = where.rpartition("/")
    if here is None or namespace != here or not pid.isdigit():
        return False
    return _start_ticks(int(pid)) != rest
