"""Start Portico and the baseline as subprocesses on loopback, wait for them, always stop them.

Each server runs in its own process group (uvicorn's supervisor and its workers), so stopping
one signals exactly the processes this module started. CPU time is read from /proc for the
server process and all its descendants.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import PROJECT_DIR, RAW_DIR, sqlalchemy_url

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
SETTLE_SECONDS = 2.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PUBLIC_URL = "http://portico.bench"


@dataclass
class Server:
    """A server process this module started."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and every live descendant."""
        return tree_cpu_seconds(self.process.pid)

    def rss_mib(self) -> float:
        return tree_rss_mib(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ProcStat:
    parent: int
    command: str
    ticks: int  # utime + stime
    children_ticks: int  # cutime + cstime: children that ended and were waited for


def _stat(pid: int) -> ProcStat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    command = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return ProcStat(
        parent=int(fields[1]),
        command=command,
        ticks=int(fields[11]) + int(fields[12]),
        children_ticks=int(fields[13]) + int(fields[14]),
    )


def _all_stats() -> dict[int, ProcStat]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(int(entry))) is not None:
            stats[int(entry)] = found
    return stats


def tree_cpu_seconds(root: int) -> float:
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        children.setdefault(stat.parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += stats[pid].ticks
        stack.extend(children.get(pid, []))
    return total / CLOCK_TICKS


def tree_rss_mib(root: int) -> float:
    """Resident memory of a process and its descendants (uvicorn's supervisor and workers)."""
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        children.setdefault(stat.parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += rss_mib(pid)
        stack.extend(children.get(pid, []))
    return total


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def plan_cache(server: Server) -> dict[str, int] | None:
    """Portico's plan-cache counters (GET /debug/plan-cache; one worker's when there are
    several), or None where the server does not expose them."""
    try:
        response = httpx.get(f"{server.url}/debug/plan-cache", timeout=5)
        return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def postgres_backends(database: str) -> dict[int, int]:
    """CPU ticks so far of each PostgreSQL backend serving `database` (its process title
    names it). Other databases' work on a shared machine is left out, and so are the
    server's own background processes (WAL writer, checkpointer), which no request waits for."""
    return {
        pid: stat.ticks
        for pid, stat in _all_stats().items()
        if stat.command == "postgres" and f" {database} " in _title(pid)
    }


def postgres_cpu_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """The backends' CPU between two readings: backends that started meanwhile count whole;
    one that ended meanwhile is lost (rare: both servers keep their pools for the run)."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / CLOCK_TICKS


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _venv_bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"`{name}` not found beside {sys.executable} nor on PATH")
    return found


def _start(name: str, command: list[str], env: dict[str, str], port: int, workers: int) -> Server:
    log_dir = RAW_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-w{workers}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path)


def wait_healthy(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not healthy after {timeout:.0f} s:\n{server.log_tail()}")


QUIET_CPU_SHARE = 0.05  # of one core: the server is idle
QUIET_TIMEOUT = 300.0


def wait_quiet(server: Server, timeout: float = QUIET_TIMEOUT) -> float:
    """Wait until the server idles (under 5 % of a core over two 1 s samples): a fresh server's
    jobs loop catches up the generated data first (overdue invoices' reminders, mailed),
    which a measured run would otherwise share the CPU (and SQLite's writer) with. Returns
    the seconds waited."""
    started = time.monotonic()
    quiet, last = 0, server.cpu_seconds()
    while time.monotonic() - started < timeout and quiet < 2:
        time.sleep(1.0)
        now = server.cpu_seconds()
        quiet = quiet + 1 if now - last < QUIET_CPU_SHARE else 0
        last = now
    return time.monotonic() - started


def stop(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    process = server.process
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass
    # Workers left behind by a supervisor that died first.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _environment(**extra: str) -> dict[str, str]:
    """This environment without Portico's production and mail settings; the work tree first
    on the import path, so the servers run the code being measured even if the editable
    install lags behind it (a new top-level package, say)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PORTICO_ENV", "SMTP_URL"}}
    path = [str(PROJECT_DIR), *filter(None, [env.get("PYTHONPATH")])]
    # Both servers sign download links for the same address (and the same keys, the
    # development ones unless SECRET_KEYS is set), so their answers can be compared.
    return {**env, "PYTHONPATH": os.pathsep.join(path), "PUBLIC_URL": PUBLIC_URL, **extra}


def start_portico(database_url: str, workers: int, name: str = "portico") -> Server:
    """`portico serve` on `database_url` (PostgreSQL's asyncpg address, or a SQLAlchemy
    address such as a SQLite file's `sqlite+aiosqlite:///...`)."""
    port = free_port()
    # The load comes from one loopback client through 100 sessions: per-client and
    # per-session request rates stay counted (their cost is measured) but never refuse.
    # The runs measure throughput at a fixed concurrency (up to 64, one tenant), which load
    # shedding would turn into refusals: its bound is lifted here, and measured by the
    # overload scenario of bench/chaos instead.
    env = _environment(
        DATABASE_URL=sqlalchemy_url(database_url),
        REQUESTS_PER_MINUTE_PER_CLIENT=str(10**9),
        REQUESTS_PER_MINUTE_PER_SESSION=str(10**9),
        MAX_REQUESTS_IN_FLIGHT="0",
        TENANT_SLOT_SHARE="1",
        # Requests beyond the pool wait for a connection as long as it takes: a fast
        # refusal would count as throughput.
        ADMISSION_WAIT_MS="60000",
        PORTICO_PLAN_STATS="1",  # GET /debug/plan-cache: hits, misses, plans, bytes
    )
    command = [_venv_bin("portico"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return _start(name, [*command, "--workers", str(workers)], env, port, workers)


def start_baseline(database_url: str, workers: int) -> Server:
    port = free_port()
    env = _environment(BENCH_DATABASE_URL=database_url)
    command = [
        sys.executable, "-m", "uvicorn", "bench.baseline:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return _start("baseline", command, env, port, workers)


@dataclass
class Servers:
    portico: Server
    baseline: Server
    portico_sqlite: Server | None = None  # Portico on the SQLite copy of the same data

    @property
    def portico_url(self) -> str:
        return self.portico.url

    @property
    def baseline_url(self) -> str:
        return self.baseline.url


@contextmanager
def running_servers(
    database_url: str, workers: int, sqlite_url: str | None = None
) -> Iterator[Servers]:
    """Both servers with `workers` worker processes each (and, given `sqlite_url`, Portico
    on that SQLite file too); stopped when the block ends."""
    with ExitStack() as stack:
        portico = start_portico(database_url, workers)
        stack.callback(stop, portico)
        baseline = start_baseline(database_url, workers)
        stack.callback(stop, baseline)
        on_sqlite = None
        if sqlite_url is not None:
            on_sqlite = start_portico(sqlite_url, workers, name="portico_sqlite")
            stack.callback(stop, on_sqlite)
        wait_healthy(portico)
        wait_healthy(baseline)
        if on_sqlite is not None:
            wait_healthy(on_sqlite)
        if workers > 1:
            time.sleep(SETTLE_SECONDS)  # /healthz answered by one worker; let the others start
        for server in filter(None, (portico, on_sqlite)):
            waited = wait_quiet(server)
            print(f"  {server.name} idle after {waited:.0f} s", flush=True)
        yield Servers(portico, baseline, on_sqlite)
