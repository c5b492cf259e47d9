"""Logging that cannot carry a worker's words, number or receipt.

The code never logs content in the first place (tests capture every log line of a full flow and
look for it). This filter is the safety net: any run of 6+ digits (phone numbers, receipt codes,
ID numbers), with or without separators, is replaced before a record is written.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

_DIGIT_RUN = re.compile(r"\+?\d(?:[\d \-.\u00a0]{4,}\d)")


def scrub(text: str) -> str:
    return _DIGIT_RUN.sub(lambda m: "[digits]" if sum(c.isdigit() for c in m.group()) >= 6 else m.group(), text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info:
            # Exception messages can quote input: keep the type, drop the text.
            exc = record.exc_info[1]
            record.msg += f" [{type(exc).__name__}]"
            record.exc_info = None
            record.exc_text = None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in (
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "httpx",
        "httpcore",
        "twilio",
        "twilio.http_client",
    ):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # No access log: it would hold addresses and paths. Our own request log has neither.
    logging.getLogger("uvicorn.access").disabled = True
    # The twilio library logs request URLs and bodies at INFO/DEBUG.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


def uvicorn_log_config() -> dict[str, Any]:
    """Hand uvicorn a config that adds no handlers of its own (ours already carry the filter)."""
    return {"version": 1, "disable_existing_loggers": False, "loggers": {}}
