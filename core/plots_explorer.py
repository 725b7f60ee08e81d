"""Figures of the embedding explorer (no Streamlit): the map, the density view, exports.

Static PNG/SVG export uses Kaleido 1.x (MIT), which drives a local Chrome/Chromium (here
Debian's ``/usr/bin/chromium``); nothing is downloaded. Without either, :func:`figure_bytes`
says why and HTML export still works (:func:`core.lasso_map.standalone_html` embeds plotly.js,
so the file opens offline).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.plots import SEQUENTIAL, TEMPLATE

PALETTE = px.colors.qualitative.Plotly + px.colors.qualitative.Dark24 + px.colors.qualitative.Light24
MAX_CATEGORIES = 60  # more distinct values than this: coloured as numbers or lumped as "other"


def is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or values.nunique() <= 12


def marker_sizes(values: pd.Series, *, lo: float = 4.0, hi: float = 16.0) -> np.ndarray:
    """A numeric column scaled linearly onto marker diameters (missing values get ``lo``)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(v)
    if not finite.any():
        return np.full(len(v), lo)
    a, b = np.nanmin(v), np.nanmax(v)
    out = lo + (hi - lo) * (v - a) / (b - a if b > a else 1.0)
    return np.where(finite, out, lo)


def _hover(frame: pd.DataFrame, hover: list[str]) -> tuple[np.ndarray, str]:
    cols = ["id"] + list(dict.fromkeys(c for c in hover if c in frame and c != "id"))
    data = frame[cols].astype(str).to_numpy()
    lines = [f"{c}: %{{customdata[{i}]}}" for i, c in enumerate(cols) if i]
    return data, "<b>%{customdata[0]}</b><br>" + "<br>".join(lines) + "<extra></extra>"


def explorer_map(coords: np.ndarray, table: pd.DataFrame, *, color: str | None = None,
                 size: str | None = None, hover: list[str] | None = None,
                 highlight: set[str] | None = None, placed: pd.DataFrame | None = None,
                 title: str = "Embedding map", axis: str = "dim", height: int = 600,
                 marker_size: float = 6.0) -> go.Figure:
    """WebGL map: one trace per category (legend toggles) or a colour scale for numbers.

    ``customdata[0]`` of every point is its id (never an index); ``highlight`` marks ids as
    selected (others fade); ``placed`` (columns id, x, y) draws new sequences on top as stars.
    """
    frame = table.reset_index(drop=True).copy()
    frame["id"] = frame["id"].astype(str)
    xy = np.asarray(coords, dtype=np.float32)
    hover = list(hover or [])
    sizes = marker_sizes(frame[size]) if size and size in frame else None
    fig = go.Figure()

    def add(mask: np.ndarray, name: str, marker: dict, showlegend: bool) -> None:
        part = frame[mask]
        custom, template = _hover(part, hover + ([color] if color else []))
        m = dict(marker, size=sizes[mask] if sizes is not None else marker_size,
                 line=dict(width=0))
        trace = go.Scattergl(x=xy[mask, 0], y=xy[mask, 1], mode="markers", name=name,
                             customdata=custom, hovertemplate=template, marker=m,
                             showlegend=showlegend)
        if highlight is not None:
            trace.selectedpoints = np.flatnonzero(part["id"].isin(highlight).to_numpy())
            trace.unselected = dict(marker=dict(opacity=0.12))
        fig.add_trace(trace)

    if color and color in frame and is_categorical(frame[color]):
        values = frame[color].astype("string").fillna("(missing)")
        order = values.value_counts().index.tolist()
        keep = order[:MAX_CATEGORIES]
        values = values.where(values.isin(keep), "(other)")
        for i, cat in enumerate(sorted(set(values), key=lambda c: (c == "(other)", str(c)))):
            add((values == cat).to_numpy(), str(cat),
                dict(color=PALETTE[i % len(PALETTE)], opacity=0.85), True)
    elif color and color in frame:
        values = pd.to_numeric(frame[color], errors="coerce")
        add(np.ones(len(frame), bool), color,
            dict(color=values, colorscale=SEQUENTIAL, showscale=True, opacity=0.85,
                 colorbar=dict(title=color)), False)
    else:
        add(np.ones(len(frame), bool), "proteins", dict(color="#264653", opacity=0.8), False)
    if placed is not None and len(placed):
        fig.add_trace(go.Scattergl(
            x=placed["x"], y=placed["y"], mode="markers", name="placed (new)",
            customdata=placed[["id"]].astype(str).to_numpy(),
            hovertemplate="<b>%{customdata[0]}</b><br>placed on the map<extra></extra>",
            marker=dict(symbol="star", size=14, color="#e63946",
                        line=dict(width=1, color="black"))))
    fig.update_layout(template=TEMPLATE, title=title, height=height, dragmode="lasso",
                      xaxis_title=f"{axis} 1", yaxis_title=f"{axis} 2",
                      legend=dict(itemsizing="constant"), uirevision="explorer",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def density_map(grid, *, title: str = "Density (all points)", axis: str = "dim",
                height: int = 600) -> go.Figure:
    """Heatmap of a :class:`core.explorer.DensityGrid` (log colour scale, empty bins clear)."""
    counts = grid.counts.astype(float)
    z = np.where(counts > 0, np.log10(np.maximum(counts, 1)), np.nan)
    xc = (grid.x_edges[:-1] + grid.x_edges[1:]) / 2
    yc = (grid.y_edges[:-1] + grid.y_edges[1:]) / 2
    fig = go.Figure(go.Heatmap(
        x=xc, y=yc, z=z, customdata=counts, colorscale=SEQUENTIAL,
        colorbar=dict(title="points", tickvals=[0, 1, 2, 3, 4, 5],
                      ticktext=["1", "10", "100", "1k", "10k", "100k"]),
        hovertemplate="x %{x:.3g}, y %{y:.3g}<br>%{customdata:,} points<extra></extra>"))
    fig.update_layout(template=TEMPLATE, title=title, height=height, dragmode="select",
                      xaxis_title=f"{axis} 1", yaxis_title=f"{axis} 2",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def figure_bytes(fig: go.Figure, fmt: str, *, width: int = 1200,
                 height: int | None = None) -> tuple[bytes | None, str]:
    """PNG or SVG through Kaleido; ``(None, reason)`` when no static engine can run here."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"static format must be png or svg, not {fmt!r}")
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return None, "static export needs the kaleido package (pip install kaleido); " \
                     "download the interactive HTML instead"
    try:
        data = fig.to_image(format=fmt, width=width, height=height or fig.layout.height or 600,
                            scale=2 if fmt == "png" else 1)
    except Exception as exc:  # kaleido raises several types when no Chrome can start
        return None, f"Kaleido could not render ({str(exc).splitlines()[0][:200]}); it needs " \
                     "a local Chrome or Chromium. Download the interactive HTML instead."
    return data, "kaleido"
