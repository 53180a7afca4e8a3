"""Loads the follow-up modules so their guards, observers and permission rules are registered."""

from __future__ import annotations

from . import agents  # noqa: F401
