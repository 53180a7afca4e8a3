"""API authentication: bearer tokens (programs) and the browser session (the portal's own pages)."""

from __future__ import annotations

from ninja.security import HttpBearer, django_auth

from .services import api_token_user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


token_auth = TokenAuth()
# Browser session for the portal's own scripts; unsafe methods also need the CSRF token (X-CSRFToken).
AUTH = [token_auth, django_auth]
