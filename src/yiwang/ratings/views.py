"""Pages of 好差评 (thin: every write calls a service)."""

from __future__ import annotations

from django.http import HttpResponse


def rate(request, token: str):
    return HttpResponse(status=501)
