"""POST /api/v1/ratings/invitations/<token>/rating answered at the WSGI level (decision 0014).

Rating submissions are the busiest request of the platform, and after decision 0008 most of their CPU was
Django's request cycle around a two-statement write: building the request object, ten middleware, URL
resolving, the response object. :class:`Dispatcher` wraps the Django WSGI application and answers exactly
the anonymous, plain-JSON submission itself — the request the lean view (:mod:`.api_submit`) handles — with
the same status, body and headers the middleware would give it. Everything else goes to Django unchanged:
any other path or method, a cookie, an ``Authorization`` or ``X-Evaluator-Key`` header, a host Django would
refuse, a forwarded host, a body that is not a plain JSON object of ``RatingIn``'s types, or a body of
unknown or unusual length (the body read here is handed on).

What the middleware does for such a request, reproduced here (``tests/ratings/test_wsgi_submit.py`` checks
the headers against Django's own answer to the same request):

- ``request_started`` / ``request_finished`` (connection health checks and ``CONN_MAX_AGE``);
- ``RequestContextMiddleware``: request id (a sane ``X-Request-ID`` is kept), client IP, channel ``api``;
- ``LocaleMiddleware``: the language from ``Accept-Language`` (no cookie reaches here), ``Vary`` and
  ``Content-Language``;
- ``SecurityMiddleware``, ``SecurityHeadersMiddleware``, ``XFrameOptionsMiddleware``: their headers;
- ``CommonMiddleware``: ``Content-Length``; ``django.request`` logs 4xx and 5xx answers.

Sessions, CSRF (the view is exempt), authentication and messages do nothing for such a request.
"""

from __future__ import annotations

import io
import json
import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host
from django.utils import translation

from yiwang.cases import wsgi_apply
from yiwang.core import context
from yiwang.core.middleware import _REQUEST_ID_RE, client_ip

from . import api_submit

PREFIX = "/api/v1/ratings/invitations/"
SUFFIX = "/rating"
MAX_BODY = 16 * 1024  # a plain submission is well under 4 KB (text ≤ 500 characters)

log = logging.getLogger("django.request")
unexpected = logging.getLogger("yiwang.api")


class _Meta:
    """What :func:`client_ip` and :func:`translation.get_language_from_request` read of a request."""

    __slots__ = ("COOKIES", "META")

    def __init__(self, environ: dict):
        self.META = environ
        self.COOKIES: dict = {}


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _host_ok(environ: dict) -> bool:
    """Whether Django's ``get_host()`` would accept the request's host (else Django answers the 400)."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return False
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = str(environ.get("SERVER_PORT", ""))
        if port != ("443" if environ.get("wsgi.url_scheme") == "https" else "80"):
            host = f"{host}:{port}"
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, _allowed_hosts())


def _is_secure(environ: dict) -> bool:
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _fixed_headers() -> list[tuple[str, str]]:
    """The headers SecurityMiddleware, SecurityHeadersMiddleware and XFrameOptionsMiddleware add."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        value = ",".join([v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy)
        headers.append(("Referrer-Policy", value))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    if settings.CONTENT_SECURITY_POLICY:
        headers.append(("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY))
    headers.append(("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)"))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
    return headers


def _hsts() -> str:
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


def _django_handles_it() -> bool:
    """The route reproduces these settings' middleware; another stack (or a redirect to HTTPS) is Django's."""
    return settings.SECURE_SSL_REDIRECT or settings.MIDDLEWARE != _MIDDLEWARE or settings.ROOT_URLCONF != "yiwang.urls"


_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "yiwang.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


class Dispatcher:
    """The WSGI callable: plain anonymous rating submissions here, every other request to ``django``."""

    def __init__(self, django: Any):
        self.django = django
        self._headers: list[tuple[str, str]] | None = None

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            path = environ.get("PATH_INFO", "")
            answer = None
            if path.startswith(PREFIX) and path.endswith(SUFFIX):
                answer = self._submit(environ, path[len(PREFIX) : -len(SUFFIX)])
            elif path == wsgi_apply.PATH:
                answer = wsgi_apply.take(self, environ)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.django(environ, start_response)

    def plain(self, environ: dict) -> bool:
        """Whether the middleware would do no more for this request than :meth:`respond` reproduces."""
        return "HTTP_COOKIE" not in environ and not _django_handles_it() and _host_ok(environ)

    def _submit(self, environ: dict, token: str):
        if (
            not token
            or "/" in token
            or not token.isascii()
            or not api_submit.eligible(
                method="POST", content_type=environ.get("CONTENT_TYPE", ""), meta=environ, has_session=False
            )
        ):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY or not self.plain(environ):
            return None
        body = environ["wsgi.input"].read(length)
        payload = api_submit._payload(body) if len(body) == length else None
        if payload is None:  # Django reads the same body
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            return None
        return self._answer(environ, token, payload)

    def _answer(self, environ: dict, token: str, payload: dict):
        device_of = environ.get("HTTP_X_DEVICE_ID", "")[:200]

        def compute(request_id: str, ip: str | None) -> tuple[int, bytes]:
            try:
                status, data = api_submit.outcome(token=token, payload=payload, device=device_of or f"ip:{ip or ''}")
            except Exception:
                unexpected.exception("unhandled API error")
                status, data = api_submit._error(
                    500, "internal_error", "服务器内部错误，请稍后再试。", {"request_id": request_id}
                )
            return status, json.dumps(data, ensure_ascii=False).encode(), api_submit._CONTENT_TYPE, False

        signals.request_started.send(sender=self.__class__, environ=environ)
        return self.respond(environ, compute)

    def respond(self, environ: dict, compute) -> tuple[str, list[tuple[str, str]], bytes]:
        """Run ``compute(request_id, ip) -> (status, body, content type, logged)`` in the request context and
        language the middleware would set, and answer with the middleware's headers (``logged``: Django
        already logged the answer, as for a 500 it made). The caller has sent ``request_started``; this
        sends ``request_finished``."""
        try:
            meta = _Meta(environ)
            incoming = environ.get("HTTP_X_REQUEST_ID", "")
            request_id = incoming if _REQUEST_ID_RE.match(incoming) else context.new_request_id()
            ip = client_ip(meta)
            language = translation.get_language_from_request(meta, check_path=False)
            ctx = context.activate(context.RequestContext(request_id=request_id, ip=ip, channel="api"))
            try:
                with translation.override(language):
                    language = translation.get_language()
                    status, body, content_type, logged = compute(request_id, ip)
            finally:
                context.reset(ctx)
        finally:
            signals.request_finished.send(sender=self.__class__)
        if self._headers is None:
            self._headers = _fixed_headers()
        headers = [
            ("Content-Type", content_type),
            ("X-Request-ID", request_id),
            ("Vary", "Accept-Language"),
            ("Content-Language", language),
            ("Content-Length", str(len(body))),
            *self._headers,
        ]
        if settings.SECURE_HSTS_SECONDS and _is_secure(environ):
            headers.append(("Strict-Transport-Security", _hsts()))
        phrase = HTTPStatus(status).phrase
        if status >= 400 and not logged:
            (log.error if status >= 500 else log.warning)(
                "%s: %s", phrase, environ.get("PATH_INFO", ""), extra={"status_code": status}
            )
        return f"{status} {phrase}", headers, body
