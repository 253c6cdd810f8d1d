"""The log files: what the app, the commands and the office server did, with times and tracebacks.

- The client (app and commands) writes `fieldkit.log`, the office server `office.log`, both in
  `paths.log_dir()` (FIELDKIT_HOME/logs, else the platform's log folder), rotated at 1 MB with
  five old files kept.
- Every line goes through `RedactingFormatter`: a bearer token (fk_…, or after "Bearer") never
  reaches a log, a traceback included.
- The office's request lines (uvicorn's access log) carry the path without its query string.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldkit import paths

CLIENT_LOG = "fieldkit.log"
OFFICE_LOG = "office.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
CLIENT_LOGGERS = ("fieldkit", "cache", "screens")
HIDDEN = "[令牌已隐藏 / token hidden]"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"
# The office's tokens (fieldkit.server.auth: "fk_" + token_urlsafe) and any Authorization value.
SECRETS = re.compile(r"fk_[A-Za-z0-9_-]{8,}|(?i:(?<=bearer )\s*[^\s'\",;]+)")

_handlers: dict[str, logging.Handler] = {}


def redact(text: str) -> str:
    """The text with every token-looking word replaced by HIDDEN."""
    return SECRETS.sub(HIDDEN, text)


class RedactingFormatter(logging.Formatter):
    """Local time with its offset to the millisecond; tokens hidden, tracebacks included."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class QueryHidden(logging.Filter):
    """Uvicorn's request line without its query string (a token or a cursor has no place there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            record.name == "uvicorn.access"
            and isinstance(args, tuple)
            and len(args) >= 3
            and isinstance(args[2], str)
        ):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def file_handler(path: Path) -> logging.Handler:
    """A rotating UTF-8 file handler with the redacting format; its folder made owner-only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter(FORMAT))
    return handler


def client_log() -> Path:
    """Where the app and the commands write their log."""
    return paths.log_dir() / CLIENT_LOG


def office_log() -> Path:
    """Where `fieldkit serve` writes its log (besides the console)."""
    return paths.log_dir() / OFFICE_LOG


def setup_client() -> Path | None:
    """Send the client's loggers to the rotating log file; the file, or None if it cannot be made.

    Called once per command; a later call with another FIELDKIT_HOME moves the log there. A log
    that cannot be written never stops the command.
    """
    path = client_log()
    current = _handlers.get(CLIENT_LOG)
    if current is not None and getattr(current, "baseFilename", None) == str(path.resolve()):
        return path
    try:
        handler = file_handler(path)
    except OSError:  # a read-only home: no log, and no log lines over the user's output either
        logging.getLogger("fieldkit").addHandler(logging.NullHandler())
        return None
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if current is not None:
            logger.removeHandler(current)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    if current is not None:
        current.close()
    _handlers[CLIENT_LOG] = handler
    return path


def uvicorn_log_config(
    log_file: Path | None, level: str = "info", *, console: bool = True, own_process: bool = True
) -> dict[str, Any]:
    """The office server's logging for uvicorn: timestamps, one line per request without its
    query string, tokens hidden; to the console and (when given) a rotating file.

    `console=False` keeps the terminal clear (the demo's office runs under the app's screen);
    `own_process=False` leaves the "fieldkit" loggers to the client's log (the demo again).
    """
    handlers: dict[str, Any] = {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "timed",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "timed",
            "filters": ["query_hidden"],
            "stream": "ext://sys.stderr",
        },
    }
    used = ["console"] if console else []
    if log_file is not None:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler",
            "formatter": "timed",
            "filters": ["query_hidden"],
            "filename": str(log_file),
            "maxBytes": MAX_BYTES,
            "backupCount": BACKUPS,
            "encoding": "utf-8",
        }
        used.append("file")
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"timed": {"()": RedactingFormatter, "fmt": FORMAT}},
        "filters": {"query_hidden": {"()": QueryHidden}},
        "handlers": handlers,
        "loggers": {
            "uvicorn": {"handlers": used, "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {
                "handlers": [h for h in used if h != "console"] + (["access"] if console else []),
                "level": upper,
                "propagate": False,
            },
            **(
                {"fieldkit": {"handlers": used, "level": upper, "propagate": False}}
                if own_process
                else {}
            ),
        },
    }
