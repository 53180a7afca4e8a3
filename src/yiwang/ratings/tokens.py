"""Signed single-use invitation tokens (link and QR) and evaluator-device keys."""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

from yiwang.core.errors import NotFound

SALT = "yiwang.ratings.invitation"
_signer = None


def _get_signer() -> signing.Signer:
    global _signer
    if _signer is None:
        _signer = signing.Signer(salt=SALT, sep=".")
    return _signer


def new_nonce() -> str:
    return secrets.token_hex(8)


def make(invitation_id: int, nonce: str) -> str:
    """``<id>-<nonce>.<signature>``: URL-safe, short enough for a QR code on a receipt."""
    return _get_signer().sign(f"{invitation_id}-{nonce}")


def parse(token: str) -> tuple[int, str]:
    """(invitation id, nonce) of a genuine token; :class:`NotFound` for anything else."""
    try:
        value = _get_signer().unsign(str(token or "")[:200])
        ident, nonce = value.split("-", 1)
        return int(ident), nonce
    except (signing.BadSignature, ValueError):
        raise NotFound("评价链接无效或已失效。", code="invitation_invalid") from None


def reset_signer() -> None:
    """Forget the cached signer (tests that change SECRET_KEY)."""
    global _signer
    _signer = None


DEVICE_PREFIX = "ywd_"


def new_device_key() -> tuple[str, str, str]:
    """(plain key, prefix, sha256) — the plain key is shown once, only its hash is stored."""
    plain = DEVICE_PREFIX + secrets.token_urlsafe(24)
    return plain, plain[:12], device_key_hash(plain)


def device_key_hash(plain: str) -> str:
    return hashlib.sha256(str(plain).encode()).hexdigest()
