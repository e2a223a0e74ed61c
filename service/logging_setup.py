"""Logging, configured once per process: one handler on the root logger that masks
personal data in every record that reaches it, tracebacks included.

A filter on a logger only sees records logged on that logger itself, not those of its
children or of libraries; a handler-level formatter sees everything that is printed.
uvicorn's own loggers (access log included) are sent through the same handler.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from service.config import LoggingSettings
from service.privacy import mask_pii

_HANDLER_NAME = "faqbot"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record: message, arguments, exception and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_pii(super().format(record))


class JsonFormatter(MaskingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Masked after serialising, so nothing in any field escapes it.
        return mask_pii(json.dumps(entry, ensure_ascii=False))


class PiiFilter(logging.Filter):
    """For handlers outside our control (e.g. pytest's caplog): masks the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(settings: LoggingSettings, stream: TextIO | None = None) -> None:
    """Idempotent: a second call replaces our handler, never adds one."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PiiFilter())
    root.addHandler(handler)
    root.setLevel(settings.level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # SQL echo would print parameters (emails); it stays at WARNING whatever the level.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
