"""POST /api/v1/cases/apply without the Ninja machinery (decision 0016).

Routed before the API's URL patterns (``yiwang.urls``), like the ratings submission (decision 0008). It
accepts exactly the plain form of the Ninja operation :func:`yiwang.cases.api.case_apply` — a bearer token,
a small ``multipart/form-data`` body (read in memory and split on its boundary instead of Django's
streaming ``MultiPartParser``) with the fields ``item_code``, ``form``, ``materials``, ``contact_name``,
``contact_phone`` and the ``files`` — checks it as the operation does, and answers what the operation
answers (status, body, error format). The application itself goes to :func:`direct.apply` (PostgreSQL,
the common case) or else to :func:`services.case_apply`, the action the operation calls.

Any other request — another method or content type, a large body, a session instead of a token, an unknown
or repeated field, an ``applicant_id`` (agents, window staff), a part with headers or encodings this
parser does not read, JSON that the operation would refuse — is handed to the Ninja operation unchanged,
which also still documents the endpoint in OpenAPI.
"""

from __future__ import annotations

import functools
import json
import re

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParser
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern
from django.utils.http import parse_header_parameters
from django.views.decorators.csrf import csrf_exempt
from ninja.responses import NinjaJSONEncoder

from yiwang.accounts.services import api_token_user
from yiwang.core.errors import DomainError

from . import direct, idempotency, services
from .api import case_out

MAX_BODY = 1024 * 1024  # larger bodies stream through Django's parser (files up to CASE_UPLOAD_MAX_BYTES)
_FIELDS = {"item_code": 64, "form": 65536, "materials": 2000, "contact_name": 100, "contact_phone": 20}
_CONTENT_TYPE = "application/json; charset=utf-8"


@functools.cache
def _api_resolver() -> URLResolver:
    from yiwang.api import api

    patterns, app_name, namespace = api.urls
    return URLResolver(RegexPattern(r"^/api/v1/"), patterns, app_name=app_name, namespace=namespace)


def _ninja(request):
    match = _api_resolver().resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


def _file_name(raw: str) -> str | None:
    """The name Django's parser and ``UploadedFile`` give an uploaded file (``None``: Django skips it)."""
    name = MultiPartParser.sanitize_file_name(None, raw)
    if not name:
        return None
    return UploadedFile(name=name).name


# the plain header every browser and HTTP library writes; anything else is read by parse_header_parameters
_PLAIN = re.compile(rb'content-disposition: ?form-data; ?name="([^"\\%]*)"(?:; ?filename="([^"\\%]*)")?', re.I)


def _disposition(line: bytes) -> dict[str, str] | None:
    """The parameters of a ``Content-Disposition: form-data`` header line, as Django's parser reads them."""
    plain = _PLAIN.fullmatch(line)
    try:
        if plain is not None:
            name, filename = plain.group(1).decode(), plain.group(2)
            return {"name": name} if filename is None else {"name": name, "filename": filename.decode()}
        main, params = parse_header_parameters(line.decode())
    except ValueError:
        return None
    name, _, value = main.partition(":")
    return params if name == "content-disposition" and value.strip() == "form-data" else None


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], list[tuple[str, bytes]]] | None:
    """(fields, [(file name, content)]) of a plain multipart body, or ``None`` when Django's parser should
    read it (preamble, other part headers, a transfer encoding, a charset, repeated or unknown fields …)."""
    ctype, params = parse_header_parameters(content_type)
    boundary = params.get("boundary", "")
    if ctype != "multipart/form-data" or not 0 < len(boundary) <= 200:
        return None
    try:
        delimiter = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        return None
    closing = b"\r\n" + delimiter + b"--"
    if not body.startswith(delimiter + b"\r\n"):
        return None
    end = body.rfind(closing)
    if end < 0 or body[end + len(closing) :] not in (b"", b"\r\n"):
        return None
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for part in body[len(delimiter) + 2 : end].split(b"\r\n" + delimiter + b"\r\n"):
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            return None
        disposition = None
        for line in head.split(b"\r\n"):
            if disposition is not None and "filename" in disposition and line[:13].lower() == b"content-type:":
                continue  # a file's declared type is not trusted anyway (uploads sniff the content)
            if disposition is not None:
                return None  # other headers, or a content type on a field (its charset changes the decoding)
            disposition = _disposition(line)
            if disposition is None:
                return None
        if disposition is None or "name" not in disposition:
            return None
        field = disposition["name"].strip()
        if "filename" in disposition:
            filename = _file_name(disposition["filename"])
            if field != "files" or filename is None:
                return None
            files.append((filename, content))
        else:
            if field not in _FIELDS or field in fields:
                return None
            try:
                fields[field] = content.decode()
            except UnicodeDecodeError:
                return None
    return fields, files


def _arguments(fields: dict[str, str], files: list[tuple[str, bytes]]) -> dict | None:
    """The operation's arguments when it would accept them as they are, else ``None``."""
    item_code = fields.get("item_code")
    if item_code is None or not item_code or any(len(fields[k]) > n for k, n in _FIELDS.items() if k in fields):
        return None
    try:
        form = json.loads(fields.get("form") or "{}")
        indexes = json.loads(fields.get("materials") or "[]")
    except ValueError:
        return None
    if (
        not isinstance(form, dict)
        or not isinstance(indexes, list)
        or len(indexes) != len(files)
        or not all(type(i) is int and 0 <= i < 1000 for i in indexes)
        or len(files) > services.MAX_FILES_PER_CASE
    ):
        return None
    return {
        "item_code": item_code,
        "form_data": form,
        "files": [direct.FileIn(i, name, content) for i, (name, content) in zip(indexes, files, strict=True)],
        "contact_name": fields.get("contact_name", ""),
        "contact_phone": fields.get("contact_phone", ""),
    }


def eligible(meta: dict) -> bool:
    """Whether a POST with these headers may be the plain form (else the Ninja operation reads it)."""
    key = meta.get("HTTP_IDEMPOTENCY_KEY")
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return (
        meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
        and 0 < length <= MAX_BODY
        and meta.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        and (key is None or bool(idempotency.KEY_RE.match(key)))
    )


def accept(meta: dict, body: bytes) -> tuple | None:
    """(user, arguments) of a plain application from an active token's user, or ``None`` for the Ninja
    operation (nothing is written either way)."""
    parsed = parse_multipart(body, meta["CONTENT_TYPE"])
    arguments = _arguments(*parsed) if parsed is not None else None
    if arguments is None:
        return None
    user = api_token_user(meta["HTTP_AUTHORIZATION"][len("Bearer ") :])
    if user is None:
        return None  # 401 in the API's words (or a session)
    return user, arguments


def outcome(*, user, arguments: dict, key: str | None) -> tuple[int, dict]:
    """The application: (status, body) as the operation answers it."""
    try:
        case = direct.apply(actor=user, idempotency_key=key, **arguments)
        created = True
        if case is None:
            case, created = services.case_apply(
                actor=user,
                item_code=arguments["item_code"],
                form_data=arguments["form_data"],
                files=[services.Upload(f.material_index, f.name, f.content) for f in arguments["files"]],
                contact_name=arguments["contact_name"],
                contact_phone=arguments["contact_phone"],
                idempotency_key=key,
            )
    except DomainError as exc:
        return exc.status, exc.as_dict()
    return (201 if created else 200), case_out(case)


def encode(data: dict) -> bytes:
    return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False).encode()


@csrf_exempt
def apply(request):
    meta = request.META
    if request.method != "POST" or not eligible(meta):
        return _ninja(request)
    accepted = accept(meta, request.body)
    if accepted is None:
        return _ninja(request)
    user, arguments = accepted
    request.user = request.auth = user
    status, data = outcome(user=user, arguments=arguments, key=meta.get("HTTP_IDEMPOTENCY_KEY"))
    return HttpResponse(encode(data), status=status, content_type=_CONTENT_TYPE)
