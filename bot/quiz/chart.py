"""Radar chart of the dimension scores, as a PNG the adapters attach to the result.

Why the object API and not pyplot: pyplot keeps global figure state and picks a GUI backend;
`Figure` with the Agg canvas draws headless, never touches a display, and leaks nothing between
calls. Matplotlib is imported on first use only (it is slow to import), and drawing is serialised
because its font cache and text layout are not thread-safe.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

__all__ = ["render_radar"]

_LOCK = threading.Lock()


def _wrap(label: str) -> str:
    """Put a long two-word label on two lines so it does not run into the plot."""
    return label.replace(" ", "\n", 1) if len(label) > 11 else label


def render_radar(
    scores: Mapping[str, int],
    labels: Mapping[str, str],
    path: Path,
    *,
    title: str = "",
    size_px: int = 600,
) -> Path:
    """Draw `scores` (0..100 per dimension, in mapping order) to `path`; return the path.

    The file is written to a temporary name and renamed, so a reader never sees half a PNG.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # harmless if already Agg; never a GUI backend here
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dims = list(scores)
    values = [max(0, min(100, int(scores[d]))) for d in dims]
    angles = [2 * math.pi * i / len(dims) for i in range(len(dims))]
    dpi = 100
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fig = Figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(projection="polar")
        ax.set_theta_offset(math.pi / 2)
        ax.set_theta_direction(-1)
        closed_angles, closed_values = [*angles, angles[0]], [*values, values[0]]
        ax.plot(closed_angles, closed_values, color="#2563eb", linewidth=2)
        ax.fill(closed_angles, closed_values, color="#2563eb", alpha=0.25)
        ax.set_ylim(0, 100)
        ax.set_yticks([25, 50, 75, 100])
        ax.set_yticklabels(["25", "50", "75", "100"], fontsize=8, color="#666666")
        ax.set_xticks(angles)
        ax.set_xticklabels([f"{_wrap(labels.get(d, d))}\n{v}" for d, v in zip(dims, values, strict=True)], fontsize=10)
        ax.tick_params(axis="x", pad=10)
        if title:
            ax.set_title(title, fontsize=13, pad=24)
        fig.subplots_adjust(left=0.18, right=0.82, top=0.82, bottom=0.12)
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
        os.close(fd)
        try:
            fig.savefig(tmp, format="png", dpi=dpi)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path
