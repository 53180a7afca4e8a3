"""Pluggable SMS delivery (短信). Select with ``settings.SMS_BACKEND``.

- :class:`ConsoleSmsBackend` (default) writes the message to the log — for development and demos.
- :class:`LocmemSmsBackend` keeps messages in ``outbox`` — for tests.
A provincial SMS gateway is one more subclass with ``send``.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.core.ids import mask_phone

log = logging.getLogger("yiwang.sms")


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class SmsBackend(abc.ABC):
    @abc.abstractmethod
    def send(self, phone: str, text: str) -> None:
        """Deliver one message to one mobile number."""


class ConsoleSmsBackend(SmsBackend):
    def send(self, phone: str, text: str) -> None:
        log.warning("【短信】%s：%s", mask_phone(phone), text)


outbox: list[SmsMessage] = []


class LocmemSmsBackend(SmsBackend):
    def send(self, phone: str, text: str) -> None:
        outbox.append(SmsMessage(phone, text))


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(phone: str, text: str) -> None:
    get_backend().send(phone, text)
