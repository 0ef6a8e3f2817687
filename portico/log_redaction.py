"""Live credentials kept out of log lines.

Sign-in, reset and email-change links carry their token in the query string
(`/portal/sign-in?token=...`) and download and export links in the path (`/downloads/<token>`,
`/exports/links/<token>`).
Whoever reads a log line with one could use it while it lives, so every URL a log line
names is redacted first: uvicorn's access log through `RedactTokens`, Portico's own lines
through `redact`.
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"
# Query parameters whose value is a credential: token, access_token, key, signature ...
_SECRET_PARAM = re.compile(
    r"(?P<name>(?:^|[?&;])(?:[^=&;#\s]*[_.-])?(?:token|key|secret|signature|password)=)"
    r"[^&;#\s\"']*",
    re.IGNORECASE,
)
_DOWNLOAD_PATH = re.compile(r"(/downloads/|/exports/links/)[^/?#\s\"']+")


def redact(text: str) -> str:
    """`text` (a path, a URL, a log message) with every credential replaced by MASK."""
    text = _SECRET_PARAM.sub(lambda m: m.group("name") + MASK, text)
    return _DOWNLOAD_PATH.sub(lambda m: m.group(1) + MASK, text)


class RedactTokens(logging.Filter):
    """Redacts the string arguments of every record it sees (the access log's path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger, once per process."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
