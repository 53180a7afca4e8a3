"""Every interface string in the templates has a Traditional Chinese and an English translation.

Run `make messages` after adding strings (zh-Hant is filled by OpenCC; English is written by hand).
"""

import re
from pathlib import Path

import pytest

from yiwang.core.management.commands.i18n import parse_po, po_path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "yiwang"
TRANSLATE = re.compile(r"""{%\s*(?:translate|trans)\s+"([^"]+)"(?:\s+as\s+\w+)?\s*%}""")


def template_strings() -> set[str]:
    found = set()
    for path in TEMPLATES.rglob("templates/**/*.html"):
        found.update(TRANSLATE.findall(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_every_template_string_is_translated(locale):
    catalogue = {e["msgid"]: e["msgstr"] for e in parse_po(po_path(locale)) if e["msgid"]}
    strings = template_strings()
    assert len(strings) > 50
    untranslated = sorted(s for s in strings if not catalogue.get(s))
    assert untranslated == [], f"run `make messages` and translate: {untranslated[:20]}"


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_compiled_catalogues_match_the_sources(locale):
    import gettext

    po = po_path(locale)
    with po.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [
        e["msgid"] for e in parse_po(po) if e["msgid"] and e["msgstr"] and compiled.gettext(e["msgid"]) != e["msgstr"]
    ]
    assert stale == [], f"recompile {locale} with `make messages`: {stale[:10]}"
