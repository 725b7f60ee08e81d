"""Figures of the Saliency page (no Streamlit): aligned saliency tracks, a logomaker logo with
letter heights = attribution, and the single-mutant heatmap."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.alphabet import AA20

TEMPLATE = "plotly_white"
DIVERGING = "RdBu_r"
MUTATION = "#d62828"


def _window(long: pd.DataFrame, window: tuple[int, int] | None) -> pd.DataFrame:
    if window is None:
        return long
    lo, hi = window
    return long[(long["column"] >= lo) & (long["column"] < hi)]


def saliency_tracks(long: pd.DataFrame, marks: dict, *, names: dict[str, str] | None = None,
                    value: str = "signed", window: tuple[int, int] | None = None,
                    title: str = "Saliency per residue") -> go.Figure:
    """One heatmap row per protein, residue letters on the cells, mutated cells labelled.

    ``long``: from :func:`core.saliency_analysis.tracks`; ``marks``: id -> list of Marked;
    ``names``: id -> row label (e.g. "parent", "least"); ``window``: [start, stop) columns.
    """
    part = _window(long, window)
    ids = list(dict.fromkeys(part["id"]))
    label = {i: _row_name(i, names, " ") for i in ids}
    cols = np.sort(part["column"].unique())
    z = np.full((len(ids), len(cols)), np.nan)
    text = np.full((len(ids), len(cols)), "", dtype=object)
    custom = np.empty((len(ids), len(cols), 2), dtype=object)
    index = {c: k for k, c in enumerate(cols)}
    for r, pid in enumerate(ids):
        rows = part[part["id"] == pid]
        k = rows["column"].map(index).to_numpy()
        z[r, k] = rows[value].to_numpy(dtype=float)
        text[r, k] = rows["residue"].to_numpy()
        custom[r, k, 0] = rows["position"].map(lambda p: "gap" if pd.isna(p) else int(p))
        custom[r, k, 1] = ""
        for m in marks.get(pid, []):
            if m.column in index:
                custom[r, index[m.column], 1] = f"<br><b>{m.label}</b>"
    signed = value == "signed"
    fig = go.Figure(go.Heatmap(
        z=z, x=cols + 1, y=[label[i] for i in ids], text=text, customdata=custom,
        texttemplate="%{text}" if len(cols) <= 120 else None, textfont=dict(size=10),
        colorscale=DIVERGING if signed else "Reds", zmid=0 if signed else None,
        zmin=-1 if signed else 0, zmax=1, xgap=1, ygap=4,
        colorbar=dict(title=value, len=0.8),
        hovertemplate="%{y}<br>position %{customdata[0]} · %{text}%{customdata[1]}"
                      "<br>score %{z:.3f}<extra></extra>"))
    xs, ys, labels, where = [], [], [], []
    for pid in ids:
        inside = sorted((m for m in marks.get(pid, []) if m.column in index),
                        key=lambda m: m.column)
        xs += [m.column + 1 for m in inside]
        ys += [label[pid]] * len(inside)
        labels += [m.label for m in inside]
        where += _label_positions([m.column for m in inside], span=len(cols))
    if xs:
        # Chimeras differ from a parent in dozens of columns: label them only when readable.
        dense = len(xs) > max(12, len(cols) // 8)
        fig.add_scatter(x=xs, y=ys, mode="markers" if dense else "markers+text", text=labels,
                        textposition=where,
                        textfont=dict(color=MUTATION, size=11),
                        marker=dict(symbol="square-open", size=16, color=MUTATION,
                                    line=dict(width=2)),
                        name="mutation", hovertemplate="%{text}<extra>mutation</extra>")
    fig.update_layout(template=TEMPLATE, title=title, height=140 + 90 * len(ids),
                      xaxis_title="position (alignment column)", yaxis_autorange="reversed",
                      showlegend=False, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def _row_name(pid: str, names: dict[str, str] | None, sep: str) -> str:
    """A track's label: its role ("least") and id, or the id alone when they are the same."""
    role = (names or {}).get(pid, "")
    return pid if role in ("", pid) else f"{role}{sep}{pid}"


def _label_positions(columns: list[int], *, span: int) -> list[str]:
    """Text positions for mutation labels along one row (columns sorted): a label whose
    neighbour is closer than a label's width leans away from it, so "G162L" and "E166W"
    stay readable instead of printing over each other."""
    near = max(2, span // 20)  # ~ one label's width in columns at the plot's usual width
    out = ["top center"] * len(columns)
    for i in range(len(columns) - 1):
        if columns[i + 1] - columns[i] < near:
            out[i] = "top left" if out[i] == "top center" else out[i]
            out[i + 1] = "top left" if out[i] == "top right" else "top right"
    return out


def saliency_logo(long: pd.DataFrame, marks: dict, *, names: dict[str, str] | None = None,
                  value: str = "signed", window: tuple[int, int] | None = None):
    """A logomaker logo per protein: each residue's letter, as high as its attribution
    (negative below the axis); mutated residues in red. Returns a matplotlib Figure."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = _window(long, window)
    ids = list(dict.fromkeys(part["id"]))
    cols = np.sort(part["column"].unique())
    width = min(24.0, max(6.0, 0.12 * len(cols)))
    fig, axes = plt.subplots(len(ids), 1, figsize=(width, 1.6 * len(ids)), squeeze=False,
                             sharex=True)
    letters = list(AA20)  # non-standard residues are left blank
    for ax, pid in zip(axes[:, 0], ids, strict=True):
        rows = part[part["id"] == pid].set_index("column").reindex(cols)
        mat = pd.DataFrame(0.0, index=cols + 1, columns=letters)
        for col, row in rows.iterrows():
            if row["residue"] in letters and np.isfinite(row[value]):
                mat.at[col + 1, row["residue"]] = float(row[value])
        with warnings.catch_warnings():  # an all-zero window makes logomaker warn on ylim
            warnings.simplefilter("ignore", UserWarning)
            logo = logomaker.Logo(mat, ax=ax, color_scheme="chemistry", flip_below=False)
        top = float(np.abs(mat.to_numpy()).max()) or 1.0
        ax.set_ylim(-1.1 * top if value == "signed" else 0.0, 1.1 * top)
        inside = [m for m in marks.get(pid, []) if m.column in set(cols)]
        dense = len(inside) > max(12, len(cols) // 8)  # too many labels to read: colour only
        for m in inside:
            res = rows.at[m.column, "residue"]
            if res in letters:
                logo.style_single_glyph(m.column + 1, res, color=MUTATION)
            if not dense:
                ax.text(m.column + 1, ax.get_ylim()[1], m.label, color=MUTATION,
                        ha="center", va="bottom", fontsize=7)
        ax.set_xlim(cols[0] + 0.5, cols[-1] + 1.5)
        ax.axhline(0, color="#999", lw=0.5)
        ax.set_ylabel(_row_name(pid, names, "\n"), fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("position (alignment column)")
    fig.tight_layout()
    return fig


def mutagenesis_heatmap(matrix: np.ndarray, sequence: str, *, std: np.ndarray | None = None,
                        label: str = "predicted", window: tuple[int, int] | None = None,
                        title: str = "Every single substitution") -> go.Figure:
    """20 x L heatmap (residues down, positions across) of a mutagenesis value; wild-type
    residues marked with a dot; hover gives the mutation in W122A notation, mean and σ."""
    lo, hi = window or (0, len(sequence))
    mat = matrix[:, lo:hi]
    pos = np.arange(lo, hi) + 1
    wt = np.array(list(sequence[lo:hi].upper()))
    names = np.array([[f"{w}{p}{a}" if a != w else f"{w}{p} (wild type)" for w, p in
                       zip(wt, pos, strict=True)] for a in AA20])
    sd = np.full_like(mat, np.nan) if std is None else std[:, lo:hi]
    fig = go.Figure(go.Heatmap(
        z=mat, x=pos, y=list(AA20), customdata=np.dstack([names, sd]),
        colorscale="Viridis", colorbar=dict(title=label, len=0.8), xgap=0.5, ygap=0.5,
        hovertemplate="%{customdata[0]}<br>" + label + " %{z:.3f} ± %{customdata[1]:.3f}"
                      "<extra></extra>"))
    is_aa = np.isin(wt, list(AA20))
    fig.add_scatter(x=pos[is_aa], y=wt[is_aa], mode="markers", name="wild type",
                    marker=dict(symbol="circle", size=5, color="white",
                                line=dict(color="black", width=1)),
                    hovertemplate="wild type %{y}%{x}<extra></extra>")
    fig.update_layout(template=TEMPLATE, title=title, height=480, xaxis_title="position",
                      yaxis_title="substituted residue", showlegend=False,
                      yaxis=dict(categoryorder="array", categoryarray=list(AA20)[::-1]),
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def std_matrix(table: pd.DataFrame, sequence: str, wild_std: float) -> np.ndarray:
    """The σ of each cell of :func:`core.mutagenesis.heatmap_matrix`."""
    from core.mutagenesis import heatmap_matrix

    return heatmap_matrix(table, sequence, value="std", wild=wild_std)
