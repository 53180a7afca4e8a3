"""Synonym table (同义词表): pure parsing, lookup and query segmentation. No ORM.

The editable rows live in :class:`yiwang.search.models.Synonym`; :func:`load_seed` reads the shipped seed
file (``data/synonyms.txt``). A :class:`SynonymTable` is built from ``(term, alternatives, two_way)`` rows and
answers "what else should a search for this word find" and "which known terms appear in this query".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import text

SEED_FILE = Path(__file__).resolve().parent / "data" / "synonyms.txt"


@dataclass(frozen=True)
class SynonymRow:
    term: str
    alternatives: tuple[str, ...]
    two_way: bool = False
    weight: int = 0  # how often people type the term (breaks ties between readings of "sb", "hz")


def parse_line(line: str) -> SynonymRow | None:
    """``社保 => 社会保险, 社会保障`` (one way) or ``退休金 = 养老金`` (both ways); None for blanks/comments."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    if "=>" in line:
        left, right = line.split("=>", 1)
        two_way = False
    elif "=" in line:
        left, right = line.split("=", 1)
        two_way = True
    else:
        raise ValueError(f"not a synonym line: {line!r}")
    term = text.clean_query(left)
    alternatives = tuple(dict.fromkeys(a for a in (text.clean_query(x) for x in right.split(",")) if a and a != term))
    if not term:
        raise ValueError(f"synonym line without a term: {line!r}")
    return SynonymRow(term=term, alternatives=alternatives, two_way=two_way)


def parse(lines: Iterable[str]) -> list[SynonymRow]:
    return [row for row in (parse_line(line) for line in lines) if row is not None]


def load_seed() -> list[SynonymRow]:
    """The shipped rows, weighted by their order in the file (the most typed terms come first)."""
    rows = parse(SEED_FILE.read_text(encoding="utf-8").splitlines())
    return [SynonymRow(r.term, r.alternatives, r.two_way, weight=len(rows) - i) for i, r in enumerate(rows)]


class SynonymTable:
    """Term → alternatives (the term itself first), with two-way rows mirrored."""

    def __init__(self, rows: Iterable[SynonymRow] = ()):
        self._map: dict[str, list[str]] = {}
        self.weights: dict[str, int] = {}
        for row in rows:
            self.weights[row.term] = max(row.weight, self.weights.get(row.term, 0))
            self._add(row.term, row.alternatives)
            if row.two_way:
                for alt in row.alternatives:
                    self._add(alt, (row.term,))
        self.max_key_length = max((len(k) for k in self._map), default=0)
        self.signature = hash(tuple(sorted((k, tuple(v), self.weights.get(k, 0)) for k, v in self._map.items())))

    def _add(self, term: str, alternatives: Iterable[str]) -> None:
        current = self._map.setdefault(term, [])
        for alt in alternatives:
            if alt != term and alt not in current:
                current.append(alt)

    def __contains__(self, term: str) -> bool:
        return term in self._map

    def __len__(self) -> int:
        return len(self._map)

    @property
    def terms(self) -> list[str]:
        return list(self._map)

    def pair_count(self) -> int:
        return sum(len(v) for v in self._map.values())

    def expand(self, term: str) -> list[str]:
        """The term and what it stands for: ``社保`` → ``[社保, 社会保险, 社会保障]``."""
        return [term, *self._map.get(term, ())]

    def segment(self, query: str) -> list[tuple[str, bool]]:
        """Split a cleaned query into pieces, marking known terms (longest match, left to right).

        ``我想开公司`` → ``[("我想", False), ("开公司", True)]``. Pieces that are not terms still need
        word segmentation; a term is kept whole even where rjieba would cut it differently (想开/公司).
        """
        pieces: list[tuple[str, bool]] = []
        buffer: list[str] = []
        i, n = 0, len(query)
        longest = self.max_key_length
        while i < n:
            match = ""
            if query[i] != " " and longest:
                for j in range(min(n, i + longest), i + 1, -1):  # two characters or more
                    candidate = query[i:j]
                    if candidate in self._map:
                        match = candidate
                        break
            if match:
                if buffer:
                    pieces.append(("".join(buffer), False))
                    buffer = []
                pieces.append((match, True))
                i += len(match)
            else:
                buffer.append(query[i])
                i += 1
        if buffer:
            pieces.append(("".join(buffer), False))
        return pieces
