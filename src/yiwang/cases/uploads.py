"""上传材料 — storing applicants' files safely.

- **Type by content**: the first bytes decide the type (PDF, JPEG, PNG, OFD); the file name's extension
  must agree with them, so ``invoice.pdf`` that is really an executable or an HTML page is refused.
- **Size**: at most ``CASE_UPLOAD_MAX_BYTES`` (counted while reading, not taken from the request).
- **Integrity**: the SHA-256 of the content is stored with the row.
- **Storage**: under ``PRIVATE_FILES_DIR/uploads/<yyyy>/<mm>/<random 32 hex>`` — never under a static or
  media URL, never named after the upload; files are served only by a view that checks the permission
  policy (``cases.file.view``) and sends ``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from yiwang.core.errors import ValidationFailed

from .models import StoredFile

CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    kind: str
    content_type: str
    extensions: tuple[str, ...]
    label: str


TYPES: dict[str, FileType] = {
    "pdf": FileType("pdf", "application/pdf", (".pdf",), "PDF"),
    "jpeg": FileType("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG 图片"),
    "png": FileType("png", "image/png", (".png",), "PNG 图片"),
    "ofd": FileType("ofd", "application/ofd", (".ofd",), "OFD 版式文件"),
}


class UploadRejected(ValidationFailed):
    default_code = "upload_rejected"
    default_message = "文件不符合要求。"


class UploadTooLarge(UploadRejected):
    status = 413
    default_code = "upload_too_large"


def max_bytes() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def allowed_kinds() -> tuple[str, ...]:
    return tuple(getattr(settings, "CASE_UPLOAD_KINDS", tuple(TYPES)))


def sniff(head: bytes, *, whole: bytes | None = None) -> str | None:
    """The file kind from its first bytes (``whole`` lets OFD, a zip, be told from other zips)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04") and whole is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(whole)) as archive:
                if "OFD.xml" in archive.namelist():
                    return "ofd"
        except zipfile.BadZipFile:
            return None
    return None


def clean_name(name: str) -> str:
    """A display name: no directories, no control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name or "upload"


def _chunks(source: IO[bytes] | bytes | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(source, bytes | bytearray):
        for i in range(0, len(source), CHUNK):
            yield bytes(source[i : i + CHUNK])
        return
    if hasattr(source, "chunks"):  # Django UploadedFile
        yield from source.chunks(CHUNK)
        return
    if hasattr(source, "read"):
        while block := source.read(CHUNK):
            yield block
        return
    yield from source


def root() -> Path:
    return Path(settings.PRIVATE_FILES_DIR) / "uploads"


def path_of(stored: StoredFile) -> Path:
    path = (root() / stored.storage_name).resolve()
    if root().resolve() not in path.parents:  # a tampered row must not read outside the folder
        raise UploadRejected("文件路径无效。", code="upload_path_invalid")
    return path


_folders: set[str] = set()


def _folder(path: Path) -> None:
    """Create the month's folder once per process (not one ``mkdir`` per file)."""
    key = str(path)
    if key not in _folders or not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        _folders.add(key)


def store(*, owner: Any, name: str, content: IO[bytes] | bytes | Iterable[bytes], save: bool = True) -> StoredFile:
    """Check and store one file; return the saved :class:`StoredFile` row.

    Raises :class:`UploadRejected` (``upload_empty``, ``upload_type_not_allowed``, ``upload_type_mismatch``)
    or :class:`UploadTooLarge`; nothing is left on disk or in the database when it does.
    """
    limit = max_bytes()
    name = clean_name(name)
    now = timezone.now()
    relative = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
    target = root() / relative
    _folder(target.parent)
    temp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    head = b""
    keep_whole = bytearray()
    try:
        with open(temp, "xb") as out:
            for block in _chunks(content):
                size += len(block)
                if size > limit:
                    raise UploadTooLarge(
                        f"文件不能超过 {limit // (1024 * 1024)} MB。", details={"max_bytes": limit, "name": name}
                    )
                if len(head) < 16:
                    head += block[: 16 - len(head)]
                if head.startswith(b"PK") and len(keep_whole) <= limit:
                    keep_whole += block
                digest.update(block)
                out.write(block)
        if size == 0:
            raise UploadRejected("文件为空。", code="upload_empty", details={"name": name})
        kind = sniff(head, whole=bytes(keep_whole) if keep_whole else None)
        if kind is None or kind not in allowed_kinds():
            labels = "、".join(TYPES[k].label for k in allowed_kinds())
            raise UploadRejected(f"只能上传 {labels} 文件。", code="upload_type_not_allowed", details={"name": name})
        ext = os.path.splitext(name)[1].lower()
        if ext and ext not in TYPES[kind].extensions:
            raise UploadRejected(
                "文件内容与扩展名不符。",
                code="upload_type_mismatch",
                details={"name": name, "content": kind, "extension": ext},
            )
        os.chmod(temp, 0o600)
        os.replace(temp, target)
        temp = None
        row = StoredFile(
            owner=owner,
            original_name=name,
            kind=kind,
            content_type=TYPES[kind].content_type,
            size=size,
            sha256=digest.hexdigest(),
            storage_name=relative,
            created_at=now,
        )
        if not save:
            return row  # the caller saves it (bulk) and removes the file if that fails
        try:
            row.save(force_insert=True)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return row
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def open_file(stored: StoredFile) -> IO[bytes]:
    return open(path_of(stored), "rb")


def verify(stored: StoredFile) -> bool:
    """Does the stored content still have the recorded SHA-256?"""
    digest = hashlib.sha256()
    with open_file(stored) as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest() == stored.sha256
