"""Free text from the outside world: what the databases can store and people can read.

JSON lets a client send NUL bytes, other control characters and lone UTF-16 surrogates (``"\\ud800"``).
PostgreSQL refuses NUL and psycopg cannot encode a surrogate, so such text would end as a 500 half-way
through an action; SQLite would store it silently. Actions check their free-text inputs up front instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ValidationFailed

# C0 controls except tab and line breaks, DEL, and lone surrogates
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def is_storable(value: str) -> bool:
    """No control characters except tab and line breaks, no lone surrogates."""
    return _UNSTORABLE.search(value) is None


def require_storable(**fields: str | Iterable[str]) -> None:
    """Raise ``invalid_text`` (400) naming the first field whose text (or any of whose strings) is not storable."""
    for name, value in fields.items():
        values = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(v, str) and is_storable(v) for v in values):
            raise ValidationFailed("文本含有无法保存的控制字符。", code="invalid_text", details={"field": name})
