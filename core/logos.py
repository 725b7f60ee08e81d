"""Sequence logos with logomaker: matrices from aligned rows, and the figure.

Figures are matplotlib (logomaker draws letters as glyph paths), rendered with the Agg backend so
they work headless; :func:`figure_bytes` gives PNG or SVG for downloads.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.alphabet import AA20
from core.config import check_choice

KINDS = ("information", "probability", "counts")


def logo_matrix(rows: Sequence[str], *, kind: str = "information",
                start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """Position x residue matrix of aligned rows (columns ``start:stop``, 0-based).

    ``information``: letter heights in bits (frequency x information content against a uniform
    background); ``probability``: residue frequencies; ``counts``: raw counts. Gaps and X are
    ignored, so a column's height reflects only the rows that have a residue there; a column of
    gaps only has no letters. No pseudocounts. The index is the 1-based alignment column.
    """
    check_choice("kind", kind, KINDS)
    rows = [str(r)[start:stop] for r in rows]
    if not rows or not rows[0]:
        raise ValueError("no aligned columns to draw")
    import logomaker

    counts = logomaker.alignment_to_matrix(rows, to_type="counts",
                                           characters_to_ignore=".-XBZJUO*")
    counts = counts.reindex(columns=list(AA20), fill_value=0.0).astype(float)
    if kind == "counts":
        matrix = counts
    else:
        # Columns where every row has a gap stay all-zero (no letters) instead of 0/0.
        totals = counts.sum(axis=1).to_numpy()[:, None]
        prob = np.divide(counts.to_numpy(), totals, out=np.zeros(counts.shape),
                         where=totals > 0)
        if kind == "information":
            with np.errstate(divide="ignore", invalid="ignore"):
                bits = np.where(prob > 0, prob * np.log2(prob * len(AA20)), 0.0).sum(axis=1)
            prob = prob * bits[:, None]
        matrix = pd.DataFrame(prob, columns=list(AA20))
    matrix.index = np.arange(start + 1, start + 1 + len(matrix))
    matrix.index.name = "column"
    return matrix


def logo_figure(matrix: pd.DataFrame, *, title: str = "", ylabel: str | None = None,
                width_per_column: float = 0.22, height: float = 2.4):
    """A matplotlib figure of the logo (chemistry colours), x ticks every 10 columns."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    width = min(max(6.0, width_per_column * len(matrix)), 30.0)
    fig, ax = plt.subplots(figsize=(width, height))
    logomaker.Logo(matrix, ax=ax, color_scheme="chemistry", vpad=0.05)
    ax.set_xlabel("Alignment column")
    ax.set_ylabel(ylabel or ("bits" if matrix.to_numpy().max() > 1.0 else "value"))
    ticks = [c for c in matrix.index if c % 10 == 0] or list(matrix.index[:1])
    ax.set_xticks(ticks)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def figure_bytes(fig, fmt: str = "png", *, dpi: int = 150) -> bytes:
    """The figure as PNG or SVG bytes; the figure is closed afterwards."""
    import matplotlib.pyplot as plt

    check_choice("fmt", fmt, ("png", "svg"))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
