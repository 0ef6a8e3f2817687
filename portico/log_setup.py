"""How every Portico process logs: one line per record, `LEVEL logger [request id]: message`.

`portico serve` hands the same configuration to uvicorn, which applies it in each worker
process it starts (`--workers` above 1): without it the workers kept uvicorn's own format
(no level name, logger or request id) and Python's default WARNING threshold.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from core import request_id

FORMAT = "%(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdField(logging.Filter):
    """Names the request on records made before the record factory was installed (in a
    fresh worker process, uvicorn's first lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.current.get() or "-"
        return True


def config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration: everything through the root logger's
    one handler on stderr, uvicorn's loggers included."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdField}},
        "formatters": {"portico": {"format": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "portico",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's loggers pass their records up to the root's handler.
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": level, "handlers": [], "propagate": True},
            "alembic": {"level": "WARNING"},  # one line per migration is noise
        },
    }


def configure(level: str = "INFO") -> None:
    request_id.install_log_field()  # every line names its request ("-" outside one)
    logging.config.dictConfig(config(level))
