"""Loads the follow-up modules so their guards, observers and permission rules are registered."""

from __future__ import annotations

from . import agents, bundles, delivery, gaps, policies, supervision  # noqa: F401
