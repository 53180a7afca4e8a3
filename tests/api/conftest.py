import pytest
from django.test import Client


class ApiClient:
    """Django test client speaking JSON to /api/v1/ with an optional bearer token."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, params=None):
        return self.client.get(f"/api/v1{path}", params or {}, **self._headers())

    def post(self, path, data=None):
        return self.client.post(f"/api/v1{path}", data or {}, content_type="application/json", **self._headers())

    def patch(self, path, data=None):
        return self.client.patch(f"/api/v1{path}", data or {}, content_type="application/json", **self._headers())

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", **self._headers())


@pytest.fixture
def api():
    return ApiClient()


@pytest.fixture
def api_as():
    from yiwang.accounts import services

    def make(user):
        _, plain = services.api_token_create(actor=user, name="test")
        return ApiClient(plain)

    return make
