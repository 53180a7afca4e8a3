"""Settings come from the environment with safe defaults."""

import json
import os
import subprocess
import sys

PROBE = (
    "import json, yiwang.settings as s; print(json.dumps({'debug': s.DEBUG, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'secure_cookie': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
    "'hasher': s.PASSWORD_HASHERS[0], 'engine': s.DATABASES['default']['ENGINE'], 'csp': s.CONTENT_SECURITY_POLICY}))"
)


def probe(tmp_path, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DATABASE_URL"))}
    clean.update({"YIWANG_VAR_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_defaults_are_safe(tmp_path):
    s = probe(tmp_path)
    assert s["debug"] is False
    assert s["hsts"] == 31536000 and s["secure_cookie"] and s["csrf_secure"]
    assert s["hasher"].endswith("Argon2PasswordHasher")
    assert s["engine"].endswith("sqlite3")
    assert "default-src 'self'" in s["csp"]
    assert (tmp_path / "secret_key").exists()


def test_local_http_turns_off_secure_cookies_and_hsts(tmp_path):
    s = probe(tmp_path, YIWANG_HTTPS="0")
    assert s["hsts"] == 0 and not s["secure_cookie"]


def test_debug_only_when_asked_and_postgres_by_url(tmp_path):
    s = probe(tmp_path, YIWANG_DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")
    assert s["debug"] is True and s["engine"].endswith("postgresql")
    assert s["hsts"] == 0  # DEBUG implies plain HTTP unless YIWANG_HTTPS=1
