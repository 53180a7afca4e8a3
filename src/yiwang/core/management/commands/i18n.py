"""yiwang i18n — refresh the zh-Hant and en message catalogues from the Simplified Chinese sources.

1. ``makemessages`` (GNU gettext's xgettext) collects every ``{% translate %}``/``gettext`` string.
2. zh-Hant: every empty translation is filled by OpenCC (s2t, character conversion — government terms keep
   their mainland wording); translations someone edited by hand are kept.
3. en: translations are maintained by hand; ``--check`` lists the strings still missing.
4. ``compilemessages`` writes the .mo files, which are committed.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

LOCALES = ["zh_Hant", "en"]


def po_path(locale: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / "django.po"


def parse_po(path: Path) -> list[dict]:
    """Minimal .po reader: entries with msgid, msgstr, flags (no plural forms are used in this project)."""
    entries, current, field = [], None, None

    def unquote(text: str) -> str:
        return ast.literal_eval(text.strip())  # .po strings are C-style quoted, like Python's

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        if line.startswith("#,"):
            current = current or {"flags": [], "comments": [], "msgid": "", "msgstr": ""}
            current["flags"] += [f.strip() for f in line[2:].split(",")]
        elif line.startswith("#"):
            current = current or {"flags": [], "comments": [], "msgid": "", "msgstr": ""}
            current["comments"].append(line)
        elif line.startswith("msgid "):
            current = current or {"flags": [], "comments": [], "msgid": "", "msgstr": ""}
            current["msgid"], field = unquote(line[6:]), "msgid"
        elif line.startswith("msgstr "):
            current["msgstr"], field = unquote(line[7:]), "msgstr"
        elif line.startswith('"') and current is not None and field:
            current[field] += unquote(line)
        elif not line.strip() and current is not None:
            entries.append(current)
            current, field = None, None
    if current is not None:
        entries.append(current)
    return entries


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def write_po(path: Path, entries: list[dict]) -> None:
    out = []
    for entry in entries:
        # gettext wants "#, flags" before the "#| previous msgid" lines msgmerge adds to fuzzy matches.
        out.extend(c for c in entry["comments"] if not c.startswith("#|"))
        flags = [f for f in entry["flags"] if f and not (f == "fuzzy" and entry["msgid"] == "")]
        if flags:
            out.append("#, " + ", ".join(flags))
        if "fuzzy" in flags:
            out.extend(c for c in entry["comments"] if c.startswith("#|"))
        out.append(f"msgid {quote(entry['msgid'])}")
        out.append(f"msgstr {quote(entry['msgstr'])}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def missing(locale: str) -> list[str]:
    path = po_path(locale)
    if not path.exists():
        return ["<no catalogue>"]
    return [e["msgid"] for e in parse_po(path) if e["msgid"] and (not e["msgstr"] or "fuzzy" in e["flags"])]


class Command(BaseCommand):
    help = "刷新繁体与英文界面翻译 / refresh the zh-Hant and en catalogues"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="only report untranslated strings; exit 1 if any")

    def handle(self, *args, **opts) -> None:
        if opts["check"]:
            problems = {loc: missing(loc) for loc in LOCALES}
            for loc, items in problems.items():
                self.stdout.write(f"{loc}: {len(items)} untranslated")
                for item in items[:50]:
                    self.stdout.write(f"  {item}")
            if any(problems.values()):
                raise CommandError("untranslated strings remain")
            return
        import opencc

        package = Path(settings.PACKAGE_DIR)
        cwd = os.getcwd()
        os.chdir(package)
        try:
            call_command(
                "makemessages",
                locale=LOCALES,
                ignore_patterns=["migrations/*", "demo/*"],
                no_obsolete=True,
                no_location=True,
                verbosity=0,
            )
        finally:
            os.chdir(cwd)
        converter = opencc.OpenCC("s2t")
        path = po_path("zh_Hant")
        entries = parse_po(path)
        filled = 0
        for entry in entries:
            if entry["msgid"] and (not entry["msgstr"] or "fuzzy" in entry["flags"]):
                entry["msgstr"] = converter.convert(entry["msgid"])
                entry["flags"] = [f for f in entry["flags"] if f != "fuzzy"]
                filled += 1
        write_po(path, entries)
        os.chdir(package)
        try:
            call_command("compilemessages", locale=LOCALES, verbosity=0)
        finally:
            os.chdir(cwd)
        self.stdout.write(f"zh_Hant: {filled} filled by OpenCC; en: {len(missing('en'))} untranslated")
