"""Small inline SVG charts (no JavaScript, no inline styles: presentation attributes only, so the strict
Content-Security-Policy holds). Pure functions returning markup-safe strings."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

LEVEL_COLOURS = {5: "#1b7f3b", 4: "#58a55c", 3: "#c9a227", 2: "#e07b39", 1: "#c0392b"}
INK = "#333333"
GRID = "#dddddd"
ACCENT = "#1f5fa8"


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def bars(
    items: Sequence[tuple[str, float, str]], *, title: str, width: int = 560, value_suffix: str = ""
) -> SafeString:
    """Horizontal bars: (label, value, colour)."""
    row = 36
    label_w = min(280, max(70, 19 * max((len(label) for label, _, _ in items), default=4) + 12))
    width = max(width, label_w + 280)
    height = max(row * len(items) + 10, 40)
    top = max((v for _, v, _ in items), default=0) or 1
    body = []
    for i, (label, value, colour) in enumerate(items):
        y = 5 + i * row
        w = (width - label_w - 50) * (value / top)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 24}" text-anchor="end" font-size="19" fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 0):.1f}" height="{row - 10}" '
            f'fill="{escape(colour or ACCENT)}"/>'
            f'<text x="{label_w + max(w, 0) + 6:.1f}" y="{y + 24}" font-size="19" fill="{INK}">'
            f"{escape(_fmt(value))}{escape(value_suffix)}</text>"
        )
    return _svg(width, height, title, body)


def line(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    width: int = 420,
    height: int = 200,
    low: float = 0.0,
    high: float = 100.0,
    suffix: str = "%",
) -> SafeString:
    """A line over labelled points (None = no data, a gap)."""
    left, right, top, bottom = 52, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (high - low) or 1
    body = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="14" fill="{INK}">'
            f"{escape(_fmt(low + span * frac))}{escape(suffix)}</text>"
        )
    n = len(points)
    step = plot_w / max(n - 1, 1)
    coords = []
    for i, (label, value) in enumerate(points):
        x = left + i * step
        if (n - 1 - i) % max(-(-n // 6), 1) == 0:
            body.append(
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="{"end" if i == n - 1 else "middle"}" '
                f'font-size="14" fill="{INK}">'
                f"{escape(label)}</text>"
            )
        if value is None:
            coords.append(None)
            continue
        y = top + plot_h * (1 - (min(max(value, low), high) - low) / span)
        coords.append((x, y))
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{ACCENT}"><title>{escape(label)}: '
            f"{escape(_fmt(value))}{escape(suffix)}</title></circle>"
        )
    segment: list[tuple[float, float]] = []
    for point in [*coords, None]:
        if point is None:
            if len(segment) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                body.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
            segment = []
        else:
            segment.append(point)
    return _svg(width, height, title, body)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
