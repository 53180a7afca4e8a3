"""Signed single-use invitation tokens (link and QR) and evaluator-device keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.core import signing

from yiwang.core.errors import NotFound

SALT = "yiwang.ratings.invitation"
_SEP = "."
_keys: tuple | None = None  # (secret key, fallbacks) → their derived HMAC states, for the signer in use


def _hmacs() -> tuple:
    """The signer's HMAC-SHA256 states, one per key (``SECRET_KEY`` first, then ``SECRET_KEY_FALLBACKS``).

    Exactly :class:`django.core.signing.Signer` with this salt (``salted_hmac``: key = SHA-256(salt + "signer"
    + secret)), but the derived key and the HMAC's padded-key state are made once per key instead of on every
    token signed or checked (decision 0021); a copy of the state then hashes only the token's value."""
    global _keys
    if _keys is None:
        signer = signing.Signer(salt=SALT, sep=_SEP)
        _keys = tuple(
            hmac.new(hashlib.sha256(f"{SALT}signer{key}".encode()).digest(), digestmod=hashlib.sha256)
            for key in [signer.key, *signer.fallback_keys]
        )
    return _keys


def _signature(state, value: str) -> bytes:
    mac = state.copy()
    mac.update(value.encode())
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=")


def new_nonce() -> str:
    return secrets.token_hex(8)


def make(invitation_id: int, nonce: str) -> str:
    """``<id>-<nonce>.<signature>``: URL-safe, short enough for a QR code on a receipt."""
    value = f"{invitation_id}-{nonce}"
    return f"{value}{_SEP}{_signature(_hmacs()[0], value).decode()}"


def parse(token: str) -> tuple[int, str]:
    """(invitation id, nonce) of a genuine token; :class:`NotFound` for anything else."""
    signed = str(token or "")[:200]
    value, sep, signature = signed.rpartition(_SEP)
    given = signature.encode()
    if sep and any(hmac.compare_digest(given, _signature(state, value)) for state in _hmacs()):
        ident, dash, nonce = value.partition("-")
        try:
            if dash:
                return int(ident), nonce
        except ValueError:
            pass
    raise NotFound("评价链接无效或已失效。", code="invitation_invalid")


def reset_signer() -> None:
    """Forget the derived keys (tests that change SECRET_KEY or SECRET_KEY_FALLBACKS)."""
    global _keys
    _keys = None


DEVICE_PREFIX = "ywd_"


def new_device_key() -> tuple[str, str, str]:
    """(plain key, prefix, sha256) — the plain key is shown once, only its hash is stored."""
    plain = DEVICE_PREFIX + secrets.token_urlsafe(24)
    return plain, plain[:12], device_key_hash(plain)


def device_key_hash(plain: str) -> str:
    return hashlib.sha256(str(plain).encode()).hexdigest()
