"""POST /api/v1/cases/apply answered at the WSGI level (decision 0016), beside the rating submission route.

:class:`yiwang.ratings.wsgi_submit.Dispatcher` sends this path here first. The route takes exactly the
request the lean view (:mod:`.api_apply`) takes itself — a bearer token of an active user, a plain multipart
body ≤ 1 MiB that :func:`.api_apply.accept` reads — and only when the middleware would do nothing for it
beyond what the Dispatcher reproduces (no cookie, a host Django accepts, the project's own middleware list).
It answers with the same status, body and headers as the lean view under Django's middleware
(``tests/cases/test_wsgi_apply.py`` compares them). Everything else goes to Django unchanged, with the body
read here handed on.

An unexpected error is answered by Django's own exception handling (``response_for_exception``: the
``django.request`` log, ``got_request_exception``, the 500 page), as it would be under the middleware.
"""

from __future__ import annotations

import io
from typing import Any

from django.core import signals
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest

from . import api_apply

PATH = "/api/v1/cases/apply"


def take(dispatcher: Any, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The answer to a plain application, or ``None`` for Django (nothing written)."""
    if not api_apply.eligible(environ) or not dispatcher.plain(environ):
        return None
    length = int(environ["CONTENT_LENGTH"])
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # Django reads the same body if the route does not answer
    environ["CONTENT_LENGTH"] = str(len(body))
    if len(body) != length:
        return None
    signals.request_started.send(sender=dispatcher.__class__, environ=environ)
    try:
        accepted = api_apply.accept(environ, body)
    except Exception:
        accepted = None  # Django meets the same error and answers it
    if accepted is None:
        signals.request_finished.send(sender=dispatcher.__class__)
        environ["wsgi.input"] = io.BytesIO(body)
        return None
    user, arguments = accepted

    def compute(request_id: str, ip: str | None) -> tuple[int, bytes, str, bool]:
        try:
            status, data = api_apply.outcome(user=user, arguments=arguments, key=environ.get("HTTP_IDEMPOTENCY_KEY"))
        except Exception as exc:
            environ["wsgi.input"] = io.BytesIO(body)
            request = WSGIRequest(environ)
            request.request_id = request_id
            request.user = request.auth = user
            response = response_for_exception(request, exc)
            return response.status_code, response.content, response["Content-Type"], True
        return status, api_apply.encode(data), api_apply._CONTENT_TYPE, False

    return dispatcher.respond(environ, compute)
