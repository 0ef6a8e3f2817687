"""A stub of Twilio's Messages API on loopback: a real HTTP server (Starlette under uvicorn,
in a thread of its own) speaking Twilio's wire format.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` takes a form (To, From or
MessagingServiceSid, Body) with HTTP basic auth AccountSid:AuthToken, and answers 201 with
the message as JSON (`sid`, `status` "queued", ...). Wrong credentials get 401 with Twilio's
error body (`code` 20003); a `To` that is no E.164 number, or one of `invalid_numbers`, gets
400 with `code` 21211, as Twilio answers an invalid number; one of `unsubscribed_numbers`
(it answered STOP to this sender) gets 400 with `code` 21610.

Test controls: `requests` (each recorded request's form and credentials), `fail_next(status,
...)` (answer the next requests with these statuses and Twilio's error body), `reset()`.
"""

from __future__ import annotations

import base64
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "stub-auth-token-" + "1" * 16
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class SentRequest:
    account: str
    username: str | None
    password: str | None
    form: dict[str, str]


class TwilioStub:
    """The stub server and its state; `start()` it once, `reset()` it between tests."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.requests: list[SentRequest] = []
        self.invalid_numbers: set[str] = set()
        self.unsubscribed_numbers: set[str] = set()
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def sent_to(self, number: str) -> list[SentRequest]:
        with self._lock:
            return [r for r in self.requests if r.form.get("To") == number]

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._failures.extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.invalid_numbers.clear()
            self.unsubscribed_numbers.clear()
            self._failures.clear()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        route = Route(
            "/2010-04-01/Accounts/{account}/Messages.json", self._messages, methods=["POST"]
        )
        config = uvicorn.Config(
            Starlette(routes=[route]),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="twilio-stub", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the stub Twilio server did not start")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def _messages(self, request: Request) -> JSONResponse:
        account = request.path_params["account"]
        form = dict(parse_qsl((await request.body()).decode()))
        username, password = _basic_auth(request.headers.get("authorization", ""))
        with self._lock:
            self.requests.append(SentRequest(account, username, password, form))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return _error(failure, 20500 if failure >= 500 else 21000, "Injected failure")
        if username != account or account != ACCOUNT_SID or password != AUTH_TOKEN:
            return _error(401, 20003, "Authenticate")
        to = form.get("To", "")
        if not E164.match(to) or to in self.invalid_numbers:
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.unsubscribed_numbers:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        sid = "SM" + secrets.token_hex(16)
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": account,
                "to": to,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body", ""),
                "status": "queued",
                "num_segments": "1",
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            status_code=201,
        )


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    username, _, password = base64.b64decode(value).decode().partition(":")
    return username, password


def _error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)
