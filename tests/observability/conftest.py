"""Log capture through the project's own JSON formatter and context filter."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from scalr_support.observability.logs import ContextFilter


class JsonLog:
    """The lines written through the settings' JSON formatter since the last clear."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)

    def attach(self) -> None:
        """Put the handler (back) on the root logger.

        Starting a Celery worker configures logging afresh (settings.LOGGING, via
        the setup_logging signal), which removes every other root handler.
        """
        root = logging.getLogger()
        if self.handler not in root.handlers:
            root.addHandler(self.handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[JsonLog]:
    """Capture every record at DEBUG and up as the JSON lines production writes."""
    json_settings = settings.LOGGING["formatters"]["json"]
    log = JsonLog()
    log.handler.setFormatter(
        JsonFormatter(
            json_settings["fmt"], rename_fields=json_settings["rename_fields"]
        )
    )
    log.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG)
    log.attach()
    try:
        yield log
    finally:
        logging.getLogger().removeHandler(log.handler)
