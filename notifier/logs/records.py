"""What a log record gains: the request id (a filter) and, for ``json``, its JSON shape.

The filter sits on the handlers, not on loggers: a logger's filter sees only
the records logged on that very logger, a handler's sees every record that
reaches it, the listeners' and the libraries' included.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from notifier.logs.context import current_request_id

#: ``record.request_id`` outside any request, so that a format naming it never fails.
NO_REQUEST = "-"

#: The attributes every LogRecord has: anything else on a record came in ``extra``.
STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` to the current request's id (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) in (None, NO_REQUEST):
            record.request_id = current_request_id() or NO_REQUEST
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, request_id when
    there is one, the fields a line was logged with in ``extra`` (the request summary's),
    and the traceback as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id not in (None, NO_REQUEST):
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
