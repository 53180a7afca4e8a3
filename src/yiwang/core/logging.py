"""Logging filter that masks ID and credit-code numbers in every log line."""

from __future__ import annotations

import logging

from .ids import mask_identifiers_in_text


class MaskIdentifiersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_identifiers_in_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
