from __future__ import annotations

import logging


class ScrubRequestFilter(logging.Filter):
    """Drop the request from log records so no address or user agent is ever written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True
