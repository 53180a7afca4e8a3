"""Uploads: type by content, size limit, disguised files, SHA-256, private storage, nothing half-written."""

import hashlib
import io
import zipfile

import pytest

from tests.factories import UserFactory
from yiwang.cases import uploads
from yiwang.cases.models import StoredFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


def ofd_bytes(with_marker=True):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("OFD.xml" if with_marker else "word/document.xml", "<ofd:OFD/>")
    return buffer.getvalue()


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return settings.PRIVATE_FILES_DIR


@pytest.mark.parametrize(
    ("content", "kind"), [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"), (EXE, None), (HTML, None), (b"", None)]
)
def test_sniff(content, kind):
    assert uploads.sniff(content[:16]) == kind


def test_sniff_tells_ofd_from_other_zips():
    assert uploads.sniff(b"PK\x03\x04", whole=ofd_bytes()) == "ofd"
    assert uploads.sniff(b"PK\x03\x04", whole=ofd_bytes(with_marker=False)) is None
    assert uploads.sniff(b"PK\x03\x04", whole=b"PK\x03\x04broken") is None


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("营业执照.pdf", PDF, "pdf"),
        ("photo.JPG", JPEG, "jpeg"),
        ("scan.png", PNG, "png"),
        ("证照.ofd", ofd_bytes(), "ofd"),
    ],
)
def test_store_accepts_real_files(owner, private_dir, name, content, kind):
    stored = uploads.store(owner=owner, name=name, content=content)
    assert stored.kind == kind
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.original_name == name
    path = uploads.path_of(stored)
    assert path.read_bytes() == content
    assert private_dir in path.parents
    assert name.split(".")[0] not in str(path)  # stored under a random name
    assert len(path.name) == 32
    assert uploads.verify(stored)


def test_store_streams_chunks_and_file_objects(owner):
    stored = uploads.store(owner=owner, name="a.pdf", content=io.BytesIO(PDF * 3000))
    assert stored.size == len(PDF) * 3000
    stored2 = uploads.store(owner=owner, name="b.pdf", content=[PDF[:3], PDF[3:]])
    assert stored2.sha256 == hashlib.sha256(PDF).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("invoice.pdf", EXE, "upload_type_not_allowed"),  # an executable in disguise
        ("page.pdf", HTML, "upload_type_not_allowed"),
        ("photo.png", JPEG, "upload_type_mismatch"),  # a JPEG named .png
        ("scan.pdf", PNG, "upload_type_mismatch"),
        ("doc.docx", ofd_bytes(with_marker=False), "upload_type_not_allowed"),
        ("empty.pdf", b"", "upload_empty"),
    ],
)
def test_store_rejects_bad_files_and_leaves_nothing(owner, private_dir, name, content, code):
    with pytest.raises(uploads.UploadRejected) as info:
        uploads.store(owner=owner, name=name, content=content)
    assert info.value.code == code
    assert info.value.status == 422
    assert not StoredFile.objects.exists()
    assert not [p for p in private_dir.rglob("*") if p.is_file()]


def test_store_rejects_oversized_files(owner, private_dir, settings):
    settings.CASE_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(uploads.UploadTooLarge) as info:
        uploads.store(owner=owner, name="big.pdf", content=PDF + b"0" * 2000)
    assert info.value.code == "upload_too_large" and info.value.status == 413
    assert not StoredFile.objects.exists()
    assert not [p for p in private_dir.rglob("*") if p.is_file()]


def test_allowed_kinds_are_configurable(owner, settings):
    settings.CASE_UPLOAD_KINDS = ("pdf",)
    with pytest.raises(uploads.UploadRejected):
        uploads.store(owner=owner, name="x.png", content=PNG)


def test_name_without_extension_is_fine(owner):
    assert uploads.store(owner=owner, name="扫描件", content=PDF).kind == "pdf"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\证明.pdf", "证明.pdf"),
        ("a\x00b<>.pdf", "ab.pdf"),
        ("", "upload"),
    ],
)
def test_clean_name(raw, clean):
    assert uploads.clean_name(raw) == clean


def test_long_names_keep_their_extension():
    assert uploads.clean_name("长" * 300 + ".pdf").endswith(".pdf")
    assert len(uploads.clean_name("长" * 300 + ".pdf")) == 200


def test_tampered_storage_name_cannot_escape(owner):
    stored = uploads.store(owner=owner, name="a.pdf", content=PDF)
    stored.storage_name = "../../../etc/passwd"
    with pytest.raises(uploads.UploadRejected):
        uploads.path_of(stored)


def test_verify_detects_changed_content(owner):
    stored = uploads.store(owner=owner, name="a.pdf", content=PDF)
    uploads.path_of(stored).write_bytes(PDF + b"x")
    assert not uploads.verify(stored)
