"""Logging set-up: JSON lines to stderr in production, readable lines in development."""

from __future__ import annotations

import json
import logging
import sys
import time

from community.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.msg, dict):
            payload = dict(record.msg)  # structured events (the access log) are logged as dicts
        else:
            payload = {"message": record.getMessage()}
        payload.setdefault("level", record.levelname.lower())
        payload.setdefault("logger", record.name)
        payload.setdefault("ts", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z")
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    # Neither format shows where a call was made from, nor the thread or process: the logging module need not
    # find them for every record (its documented optimisation: a stack walk per call, the access log's line
    # on every request included).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours (and include client addresses): off.
    logging.getLogger("uvicorn.access").disabled = True
