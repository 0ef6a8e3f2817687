"""localstripe, a Stripe API peer, in a subprocess on 127.0.0.1 for the test session.

Its own command line listens on every interface and loads and rewrites the shared
`/tmp/localstripe.pickle`, so parallel runs would see each other's objects. This module is also
the launcher (`python -m tests.localstripe PORT`): loopback only, state in memory only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent


class LocalStripe:
    """One localstripe process; `url` is the base address to give the Stripe SDK."""

    def __init__(self, log_path: Path) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.localstripe", str(self.port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},  # its deprecations are not ours
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = self.log_path.read_text(errors="replace")
                raise RuntimeError(f"localstripe did not start:\n{output}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            # Any HTTP answer will do; localstripe has no health endpoint.
            urllib.request.urlopen(f"{self.url}/v1/customers", timeout=1).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def flush(self) -> None:
        """Drop every stored object; webhook registrations stay."""
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")
        urllib.request.urlopen(request, timeout=5).close()

    def stop(self) -> None:
        if self._process is not None:
            process, self._process = self._process, None
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def main(port: int) -> None:
    import logging

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app  # importing it builds the routes

    # Keep the store in memory: no shared pickle file to read or rewrite.
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())
    web.run_app(app, host="127.0.0.1", port=port, access_log=access, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
