"""Plotly figure builders (no Streamlit): pages render them, the CLI can save them as HTML."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core import describe

TEMPLATE = "plotly_white"
SEQUENTIAL = "Viridis"


def length_histogram(table: pd.DataFrame, *, title: str = "Sequence lengths") -> go.Figure:
    frame = pd.DataFrame({"id": table["id"], "length": describe.lengths(table)})
    fig = px.histogram(frame, x="length", nbins=min(60, max(10, frame["length"].nunique())),
                       template=TEMPLATE, title=title, labels={"length": "length (residues)"})
    fig.update_traces(marker_color="#2a9d8f", hovertemplate="length %{x}<br>%{y} sequences")
    fig.update_layout(yaxis_title="sequences", bargap=0.05, height=320,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def composition_bar(table: pd.DataFrame, *, title: str = "Residue composition") -> go.Figure:
    comp = describe.composition(table)
    comp["kind"] = comp["standard"].map({True: "standard", False: "non-standard"})
    fig = px.bar(comp, x="residue", y="fraction", color="kind", template=TEMPLATE, title=title,
                 color_discrete_map={"standard": "#264653", "non-standard": "#e76f51"},
                 hover_data={"count": ":,", "fraction": ":.2%", "kind": False})
    fig.update_layout(yaxis_tickformat=".0%", height=320, legend_title_text="",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def loss_curve(history: list[dict], *, title: str = "Training") -> go.Figure:
    """Every numeric series in a run's history against its epoch (or step)."""
    frame = pd.DataFrame(history)
    x = "epoch" if "epoch" in frame else frame.columns[0] if len(frame.columns) else None
    fig = go.Figure()
    if x is not None:
        for col in frame.columns:
            if col != x and pd.api.types.is_numeric_dtype(frame[col]):
                fig.add_scatter(x=frame[x], y=frame[col], mode="lines+markers", name=col)
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title=x or "", height=320,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def pred_vs_measured(frame: pd.DataFrame, *, label: str = "property",
                     title: str = "Predicted vs. measured") -> go.Figure:
    """Scatter of ``predicted`` against ``measured`` with ±2σ error bars (column ``std``).

    ``frame`` needs id, measured, predicted and optionally std, split, m; ids show on hover.
    """
    fig = go.Figure()
    lo = float(min(frame["measured"].min(), frame["predicted"].min()))
    hi = float(max(frame["measured"].max(), frame["predicted"].max()))
    fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="y = x",
                    line=dict(color="#999", dash="dash"), hoverinfo="skip")
    groups = frame.groupby("split", sort=False) if "split" in frame else [("all", frame)]
    colours = {"test": "#e76f51", "train": "#2a9d8f", "all": "#264653"}
    for split, part in groups:
        error = dict(type="data", array=2 * part["std"], visible=True, thickness=1) \
            if "std" in part else None
        custom = np.stack([part["id"].astype(str), part.get("std", part["predicted"] * np.nan)],
                          axis=1)
        fig.add_scatter(x=part["measured"], y=part["predicted"], mode="markers", name=str(split),
                        error_y=error, customdata=custom,
                        marker=dict(size=8, color=colours.get(str(split), "#264653")),
                        hovertemplate="<b>%{customdata[0]}</b><br>measured %{x:.4g}<br>"
                                      "predicted %{y:.4g} ± %{customdata[1]:.3g} (1σ)"
                                      "<extra>%{fullData.name}</extra>")
    fig.update_layout(template=TEMPLATE, title=title, height=460,
                      xaxis_title=f"measured {label}", yaxis_title=f"predicted {label} (±2σ)",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def embedding_map(coords: np.ndarray, table: pd.DataFrame, *, color: str | None = None,
                  hover: list[str] | None = None, title: str = "Embedding map",
                  axis: str = "dim") -> go.Figure:
    """WebGL scatter of 2-D coordinates; ids travel in ``customdata`` (never point indices)."""
    frame = table.reset_index(drop=True).copy()
    frame["x"], frame["y"] = coords[:, 0], coords[:, 1]
    hover = [c for c in (hover or []) if c in frame.columns and c != color]
    kwargs = dict(x="x", y="y", custom_data=["id"], hover_name="id",
                  hover_data={c: True for c in hover} | {"x": False, "y": False},
                  template=TEMPLATE, title=title, render_mode="webgl")
    if color is not None and color in frame:
        numeric = pd.api.types.is_numeric_dtype(frame[color]) and frame[color].nunique() > 12
        if numeric:
            kwargs.update(color=color, color_continuous_scale=SEQUENTIAL)
        else:
            frame[color] = frame[color].astype(str)
            kwargs.update(color=color)
    fig = px.scatter(frame, **kwargs)
    fig.update_traces(marker=dict(size=7, line=dict(width=0.3, color="white")))
    fig.update_layout(height=520, xaxis_title=f"{axis} 1", yaxis_title=f"{axis} 2",
                      margin=dict(l=10, r=10, t=40, b=10), dragmode="lasso")
    return fig


def cluster_map(similarity: np.ndarray, ids: list[str], order: np.ndarray,
                annotation: pd.Series | None = None, *,
                title: str = "Cluster map (cosine similarity)") -> go.Figure:
    """Clustered heatmap (rows/columns in dendrogram ``order``) with an annotation column."""
    from plotly.subplots import make_subplots

    ids_ordered = [ids[i] for i in order]
    sim = similarity[np.ix_(order, order)]
    if annotation is None:
        fig = go.Figure()
        heat_col = None
    else:
        fig = make_subplots(rows=1, cols=2, column_widths=[0.04, 0.96], shared_yaxes=True,
                            horizontal_spacing=0.005)
        values = annotation.to_numpy()[order]
        fig.add_heatmap(z=values[:, None], y=ids_ordered, x=[annotation.name or "label"],
                        colorscale=SEQUENTIAL, showscale=True, row=1, col=1,
                        colorbar=dict(title=str(annotation.name), x=-0.12, len=0.5),
                        hovertemplate="%{y}<br>" + str(annotation.name) + " %{z:.4g}<extra></extra>")
        heat_col = 2
    heat = go.Heatmap(z=sim, x=ids_ordered, y=ids_ordered, colorscale="RdBu_r", zmid=0,
                      colorbar=dict(title="cosine"),
                      hovertemplate="%{y} · %{x}<br>cosine %{z:.3f}<extra></extra>")
    if heat_col:
        fig.add_trace(heat, row=1, col=heat_col)
    else:
        fig.add_trace(heat)
    fig.update_layout(template=TEMPLATE, title=title, height=640,
                      margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(showticklabels=len(ids) <= 60)
    fig.update_yaxes(showticklabels=len(ids) <= 60, autorange="reversed")
    return fig


def training_curve(history: list[dict], *, metric: str = "nmi",
                   baselines: dict[str, float] | None = None,
                   title: str = "NMI during SeqSCAN training") -> go.Figure:
    """A metric per epoch (one line per stage) with baselines as horizontal lines."""
    frame = pd.DataFrame([h for h in history if metric in h])
    fig = go.Figure()
    if not frame.empty:
        stages = frame["stage"] if "stage" in frame else pd.Series("train", index=frame.index)
        epochs = frame["epoch"] if "epoch" in frame else frame.groupby(stages).cumcount() + 1
        frame = frame.assign(_stage=stages.to_numpy(), _epoch=epochs.to_numpy())
        offset = 0
        for stage, part in frame.groupby("_stage", sort=False):
            # later stages (self-labelling) continue the x axis where the previous one ended
            fig.add_scatter(x=part["_epoch"] + offset, y=part[metric], mode="lines+markers",
                            name=str(stage), customdata=part["_epoch"],
                            hovertemplate=f"{stage} epoch %{{customdata}}<br>{metric} "
                                          "%{y:.3f}<extra></extra>")
            offset += int(part["_epoch"].max())
    for name, value in (baselines or {}).items():
        fig.add_hline(y=value, line_dash="dash", line_color="#888",
                      annotation_text=f"{name} {value:.3f}", annotation_position="bottom right")
    fig.update_layout(template=TEMPLATE, title=title, height=380, xaxis_title="epoch",
                      yaxis_title=metric.upper(), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def confusion_heatmap(confusion: pd.DataFrame, *, normalized: bool = False,
                      title: str = "Hungarian-matched confusion") -> go.Figure:
    """Rows true classes, columns clusters (already reordered to the diagonal).

    Plotly heatmaps emit no selection events, so an invisible marker sits on every cell: a
    click on a cell selects that marker, whose ``customdata`` is ``[class, cluster]``.
    """
    z = confusion.to_numpy(dtype=float)
    text = [[f"{v:.0%}" if normalized else f"{int(v)}" for v in row] for row in z]
    rows, cols = [str(r) for r in confusion.index], [str(c) for c in confusion.columns]
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale="Blues", text=text,
                               texttemplate="%{text}", hoverinfo="skip"))
    grid_y, grid_x = np.meshgrid(rows, cols, indexing="ij")
    flat_text = np.asarray(text).ravel()
    fig.add_scatter(x=grid_x.ravel(), y=grid_y.ravel(), mode="markers", name="cells",
                    marker=dict(symbol="square", size=24, opacity=0.0, color="#000"),
                    customdata=np.column_stack([grid_y.ravel(), grid_x.ravel()]),
                    text=flat_text, showlegend=False,
                    hovertemplate="%{y} → %{x}: %{text}<br>click to list<extra></extra>")
    fig.update_layout(template=TEMPLATE, title=title, height=max(320, 28 * len(confusion) + 120),
                      xaxis_title="cluster (matched order)", yaxis_title="true class",
                      margin=dict(l=10, r=10, t=40, b=10), clickmode="event+select",
                      dragmode=False)
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def cluster_sweep(sweep: pd.DataFrame, *, suggested: int | None = None,
                  title: str = "How many clusters?") -> go.Figure:
    """Silhouette (left axis) and neighbour consistency (right axis) per number of clusters,
    NMI too when the sweep had labels; the suggestion marked."""
    fig = go.Figure()
    fig.add_scatter(x=sweep["k"], y=sweep["silhouette"], mode="lines+markers",
                    name="silhouette (higher is better)")
    if "nmi" in sweep:
        fig.add_scatter(x=sweep["k"], y=sweep["nmi"], mode="lines+markers", line_dash="dot",
                        name="NMI vs labels (not used to choose)")
    fig.add_scatter(x=sweep["k"], y=sweep["consistency"], mode="lines+markers", yaxis="y2",
                    name="neighbour inconsistency (lower is better)", line_color="#999")
    if suggested is not None:
        fig.add_vline(x=suggested, line_dash="dash", line_color="#2a9d8f",
                      annotation_text=f"suggested {suggested}")
    fig.update_layout(template=TEMPLATE, title=title, height=340, xaxis_title="clusters",
                      yaxis_title="score", margin=dict(l=10, r=10, t=40, b=10),
                      yaxis2=dict(title="−log⟨p_i, p_j⟩", overlaying="y", side="right",
                                  showgrid=False),
                      legend=dict(orientation="h", y=-0.25))
    return fig
