"""Test settings: the real settings with fast password hashing and in-memory side effects."""

import os
import tempfile

os.environ.setdefault("YIWANG_VAR_DIR", tempfile.mkdtemp(prefix="yiwang-test-"))

from yiwang.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "yiwang.accounts.sms.LocmemSmsBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SECRET_KEY = "test-secret-key-not-for-production"
LOGGING = {"version": 1, "disable_existing_loggers": False}
