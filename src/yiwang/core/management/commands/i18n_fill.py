"""yiwang i18n_fill FILE.py — merge English translations (a dict named EN in FILE) into the en catalogue."""

from __future__ import annotations

import runpy

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from .i18n import parse_po, po_path, write_po


class Command(BaseCommand):
    help = "合并英文翻译 / merge English translations into the en catalogue"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args, **opts) -> None:
        translations = runpy.run_path(opts["file"])["EN"]
        path = po_path("en")
        entries = parse_po(path)
        filled = 0
        for entry in entries:
            if entry["msgid"] in translations and translations[entry["msgid"]]:
                entry["msgstr"] = translations[entry["msgid"]]
                entry["flags"] = [f for f in entry["flags"] if f != "fuzzy"]
                filled += 1
        write_po(path, entries)
        call_command("i18n")
        self.stdout.write(f"en: {filled} translations merged")
