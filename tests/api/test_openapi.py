"""The committed OpenAPI document must match the code (run `make openapi` after changing the API)."""

import json
from pathlib import Path

from yiwang.core.management.commands.openapi import render_openapi

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_code():
    current = json.loads(render_openapi())
    committed = json.loads(DOC.read_text(encoding="utf-8"))
    assert committed == current, "docs/openapi.json is out of date: run `make openapi` and commit it"


def test_every_operation_documents_the_error_format():
    schema = json.loads(render_openapi())
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            errors = [code for code in op["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{method.upper()} {path} documents no error response"
