"""Catalog test fixtures: the API clients of tests/api."""

from tests.api.conftest import api, api_as  # noqa: F401 - re-exported fixtures
