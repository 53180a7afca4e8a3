"""Calling the WSGI routes (decisions 0014, 0016) as a server would: Django's application behind a counter,
a connection-keeping fixture and a caller that returns status, headers and body."""

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from yiwang.ratings import wsgi_submit


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """As Django's test client does: the test's transaction must survive request_started/finished."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Recorder:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self):
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


@pytest.fixture
def app():
    return wsgi_submit.Dispatcher(Recorder())


def call(app, env: dict) -> tuple[int, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    result = app(env, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return int(seen["status"].split()[0]), dict(seen["headers"]), body
