"""Server-side SVG charts for the admin dashboard: stacked bars per day and horizontal bars.

Why drawn here: the page loads no chart library, so the Content-Security-Policy can forbid every
script but the app's own. Only presentation attributes are used (no `style`), which that policy
allows; every label passes through `markupsafe.escape`, since intents and reasons come from data.
Each chart carries a <title> for screen readers and sits next to a table with the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["PALETTE", "hbar_chart", "stacked_day_chart"]

# Colour-blind-safe (Okabe-Ito), each at least 3:1 against white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8F6A00", "#56B4E9", "#6A3D9A", "#444444")


def _color(keys: Sequence[str]) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}


def stacked_day_chart(days: Sequence[str], table: Mapping[str, Mapping[str, int]], title: str,
                      width: int = 720, height: int = 220) -> Markup:
    """One bar per day, stacked by key (platform or intent), with a legend."""
    keys = sorted({k for row in table.values() for k in row}, key=lambda k: -sum(r.get(k, 0) for r in table.values()))
    colors = _color(keys)
    top = max([sum(table.get(d, {}).values()) for d in days] + [1])
    left, bottom, plot_h = 40, 30, height - 60
    step = (width - left - 10) / max(1, len(days))
    bar_w = max(2.0, step * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height + 20 * ((len(keys) + 3) // 4)}" '
             f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{height - bottom - plot_h + 4}" text-anchor="end" font-size="11" fill="#222">{top}</text>',
             f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end" font-size="11" fill="#222">0</text>']
    for i, day in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = float(height - bottom)
        for key in keys:
            value = table.get(day, {}).get(key, 0)
            if not value:
                continue
            h = value / top * plot_h
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colors[key]}">'
                         f'<title>{escape(day)} {escape(key)}: {value}</title></rect>')
        stride = 1 if len(days) <= 14 else max(1, len(days) // 7)
        last = i == len(days) - 1
        if last or (i % stride == 0 and len(days) - 1 - i >= stride / 2):  # no label crowding the last one
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10" '
                         f'fill="#222">{escape(day[5:])}</text>')
    for i, key in enumerate(keys):
        lx, ly = left + (i % 4) * 170, height + 2 + (i // 4) * 20
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colors[key]}"/>'
                     f'<text x="{lx + 16}" y="{ly + 11}" font-size="12" fill="#222">{escape(key)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is a number or escaped


def hbar_chart(items: Mapping[str, int], title: str, width: int = 480) -> Markup:
    """One horizontal bar per key, largest first, with its count."""
    rows = sorted(items.items(), key=lambda kv: -kv[1])
    top = max([v for _, v in rows] + [1])
    label_w, bar_max, row_h = 150, width - 150 - 50, 24
    height = max(1, len(rows)) * row_h + 10
    colors = _color([k for k, _ in rows])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    if not rows:
        parts.append('<text x="0" y="20" font-size="12" fill="#222">No data yet</text>')
    for i, (key, value) in enumerate(rows):
        y = 5 + i * row_h
        w = value / top * bar_max
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#222">'
                     f'{escape(key[:24])}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="16" fill="{colors[key]}"/>'
                     f'<text x="{label_w + w + 5:.1f}" y="{y + 15}" font-size="12" fill="#222">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is a number or escaped
