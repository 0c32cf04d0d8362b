"""Logging set-up: secrets, tokens and openids never reach a log line; no query strings in access logs."""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_SECRET_PARAMS = re.compile(r"(access_token|secret|appsecret|signature|msg_signature|openid|echostr)=[^&\s\"']+",
                            re.I)
_OPENID_LIKE = re.compile(r"\bo[A-Za-z0-9_-]{26,}\b")


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _OPENID_LIKE.sub("o***", _SECRET_PARAMS.sub(r"\1=***", message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class AccessLogger(AbstractAccessLogger):
    """Method, path (never the query: it carries signature, nonce and openid), status, time."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, time * 1000)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # urllib3 logs full URLs, secrets included, at DEBUG.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
