"""Protection of personal identifiers at rest (SM3/SM4, GB/T 32905 and GB/T 32907).

- :func:`keyed_hash` — HMAC-SM3 of a normalised identifier, for exact matching without storing it
  in clear (the national exchange's ``cert_key`` 证件散列码).
- :func:`encrypt` / :func:`decrypt` — SM4-GCM with a random nonce, for the rare screens that must
  show the full number. The stored form is ``v1:<nonce hex>:<tag hex>:<ciphertext hex>``.

Keys come from ``settings.ID_KEY`` (64 hex characters) or, when unset, are derived from SECRET_KEY with
SM3; rotating the key means re-encrypting, which ``v1`` leaves room for.
"""

from __future__ import annotations

import functools
import secrets

import gmssl_fast
from django.conf import settings

from .errors import ValidationFailed


@functools.cache
def _keys(id_key: str, secret_key: str) -> tuple[bytes, bytes]:
    if id_key:
        master = bytes.fromhex(id_key)
        if len(master) < 16:
            raise ValueError("YIWANG_ID_KEY must be at least 16 bytes of hex")
    else:
        master = gmssl_fast.sm3(("yiwang-id-key:" + secret_key).encode())
    hash_key = gmssl_fast.sm3_hmac(master, b"hash")
    enc_key = gmssl_fast.sm3_hmac(master, b"encrypt")[:16]
    return hash_key, enc_key


def _current_keys() -> tuple[bytes, bytes]:
    return _keys(settings.ID_KEY, settings.SECRET_KEY)


def keyed_hash(value: str) -> str:
    """HMAC-SM3 hex digest of a normalised identifier."""
    hash_key, _ = _current_keys()
    return gmssl_fast.sm3_hmac(hash_key, value.encode()).hex()


def encrypt(value: str) -> str:
    if not value:
        return ""
    _, enc_key = _current_keys()
    nonce = secrets.token_bytes(12)
    ciphertext, tag = gmssl_fast.SM4GCM(enc_key, nonce).encrypt(value.encode())
    return f"v1:{nonce.hex()}:{tag.hex()}:{ciphertext.hex()}"


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        version, nonce_hex, tag_hex, ct_hex = token.split(":")
        if version != "v1":
            raise ValueError(version)
        _, enc_key = _current_keys()
        plain = gmssl_fast.SM4GCM(enc_key, bytes.fromhex(nonce_hex)).decrypt(
            bytes.fromhex(ct_hex), bytes.fromhex(tag_hex)
        )
    except (ValueError, gmssl_fast.GmsslError) as exc:
        raise ValidationFailed("加密数据无法解密。", code="decrypt_failed") from exc
    return plain.decode()
