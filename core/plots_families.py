"""Figures of the family-fingerprint method: the paper's Figure 4 BLOSUM62 bars and sequence
logos of the original vs reconstructed alignment (plotly and logomaker, no Streamlit)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.logos import logo_matrix

BARS = {
    "mean_blosum62": "(A) mean BLOSUM62, original vs reconstructed residue",
    "blosum62_common": "(B) BLOSUM62, most common original vs reconstructed residue",
}


def blosum_bars(columns: pd.DataFrame, *, value: str = "mean_blosum62",
                title: str | None = None) -> go.Figure:
    """One bar per alignment position, coloured red (low) to green (high) BLOSUM62 score,
    with the residues and score on hover. ``columns``: one family's rows of the columns table."""
    frame = columns.sort_values("position")
    y = frame[value].to_numpy(dtype=float)
    hover = [f"position {p}<br>score {v:.2f}<br>most common: {a} → {b}<br>"
             f"pairs {n}, gaps {g:.0%}" if np.isfinite(v) else f"position {p}<br>no residues"
             for p, v, a, b, n, g in zip(frame["position"], y, frame["residue_original"],
                                         frame["residue_reconstructed"], frame["n_pairs"],
                                         frame["gap_fraction"], strict=True)]
    fig = go.Figure(go.Bar(
        x=frame["position"], y=np.nan_to_num(y), hovertext=hover, hoverinfo="text",
        marker={"color": np.nan_to_num(y), "colorscale": "RdYlGn", "cmin": -4, "cmax": 11,
                "colorbar": {"title": "BLOSUM62"}}))
    fig.update_layout(title=title or BARS.get(value, value), xaxis_title="alignment position",
                      yaxis_title="BLOSUM62 score", bargap=0.05, height=320,
                      margin={"l": 40, "r": 20, "t": 50, "b": 40})
    return fig


def logo_pair(original: list[str], reconstructed: list[str], *, start: int, end: int):
    """Matplotlib figure with two logomaker probability logos (gaps ignored) of the window
    ``start..end`` (1-based, inclusive) of the original and reconstructed alignment."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(max(6, 0.35 * (end - start + 1)), 4.4), sharex=True)
    for ax, rows, name in zip(axes, (original, reconstructed), ("original", "reconstructed"),
                              strict=True):
        freqs = logo_matrix(rows, kind="probability", start=start - 1, stop=end)
        logomaker.Logo(freqs, ax=ax, color_scheme="chemistry")
        ax.set_ylabel("frequency")
        ax.set_title(f"{name} alignment, positions {start}-{end}", fontsize=10)
    axes[-1].set_xlabel("alignment position")
    fig.tight_layout()
    return fig


def family_metric_bars(table: pd.DataFrame, *, metric: str = "f1") -> go.Figure:
    """Per-family metric of several models side by side (long table: model, family, metric)."""
    fig = go.Figure()
    for model, rows in table.groupby("model", sort=False):
        fig.add_bar(name=model, x=rows["family"], y=rows[metric])
    fig.update_layout(barmode="group", yaxis_title=metric, height=340,
                      margin={"l": 40, "r": 20, "t": 30, "b": 90})
    return fig
