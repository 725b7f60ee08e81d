"""Figures of protein–text retrieval (seed 003), plotly, no Streamlit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.plots import TEMPLATE

MODEL_COLOURS = {"baseline_infonce": "#8d99ae", "triplet": "#e76f51", "mixed": "#2a9d8f",
                 "mixed_ensemble": "#264653", "plain_baseline_infonce": "#b8c0cc",
                 "plain_mixed": "#264653"}
LABELS = {"baseline_infonce": "Baseline (InfoNCE)", "triplet": "Fine-tuned (triplet)",
          "mixed": "Fine-tuned (mixed)", "mixed_ensemble": "Mixed + plain k-mer model",
          "plain_baseline_infonce": "Plain companion (InfoNCE)",
          "plain_mixed": "Plain companion (mixed)"}
_MARGIN = dict(l=10, r=10, t=50, b=10)


def _label(model: str) -> str:
    return LABELS.get(model, model)


def accuracy_bars(summary: pd.DataFrame, *, title: str = "Pairwise ranking accuracy"
                  ) -> go.Figure:
    """Hard / strict / easy pairwise accuracy per model, with standard errors."""
    fig = go.Figure()
    groups = [("pairwise_acc_hard", "Hard (twins)"), ("pairwise_acc_strict", "Strict twins"),
              ("pairwise_acc_easy", "Easy (random)")]
    for _, row in summary.iterrows():
        xs, ys, es = [], [], []
        for key, name in groups:
            if key in row and pd.notna(row[key]):
                xs.append(name)
                ys.append(row[key])
                es.append(row.get(f"{key}_se", 0) or 0)
        fig.add_bar(x=xs, y=ys, name=_label(row["model"]),
                    marker_color=MODEL_COLOURS.get(row["model"]),
                    error_y=dict(type="data", array=es), text=[f"{y:.3f}" for y in ys],
                    textposition="outside")
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999", annotation_text="chance")
    fig.update_layout(template=TEMPLATE, title=title, barmode="group", height=380,
                      yaxis=dict(range=[0, 1.08], title="Pr(s_pos > s_neg)"), margin=_MARGIN)
    return fig


def threshold_sweep(cases: pd.DataFrame, *, kind: str = "hard",
                    fixed: dict[str, float] | None = None) -> go.Figure:
    """Precision, recall and F1 against the threshold tau for each model; ``fixed`` marks
    each model's validation threshold."""
    from core.tasks.text_eval import threshold_sweep as sweep

    fig = go.Figure()
    dashes = {"precision": "dot", "recall": "dash", "f1": "solid"}
    for model, part in cases[cases["kind"] == kind].groupby("model", sort=False):
        table = sweep(part["s_pos"].to_numpy(), part["s_neg"].to_numpy())
        for col, dash in dashes.items():
            fig.add_scatter(x=table["tau"], y=table[col], mode="lines",
                            name=f"{_label(model)} {col}", legendgroup=model,
                            line=dict(color=MODEL_COLOURS.get(model), dash=dash))
        if fixed and model in fixed:
            fig.add_vline(x=fixed[model], line_color=MODEL_COLOURS.get(model), line_width=1)
    fig.update_layout(template=TEMPLATE, height=380, margin=_MARGIN,
                      title=f"Threshold sweep ({kind} pairs): predict a match when s ≥ τ",
                      xaxis_title="τ (cosine)", yaxis=dict(range=[0, 1.02]))
    return fig


def score_shift(cases: pd.DataFrame, *, kind: str = "hard",
                title: str | None = None) -> go.Figure:
    """Split violins of s_pos (left) and s_neg (right) per model, on one score axis."""
    fig = go.Figure()
    part = cases[cases["kind"] == kind]
    for side, col, name, colour in (("negative", "s_pos", "s_pos (text, its protein)",
                                     "#2a9d8f"),
                                    ("positive", "s_neg", "s_neg (text, twin)" if kind == "hard"
                                     else "s_neg (text, random protein)", "#e76f51")):
        fig.add_violin(x=[_label(m) for m in part["model"]], y=part[col], side=side,
                       name=name, line_color=colour, legendgroup=col, scalegroup=col,
                       meanline_visible=True, points=False, spanmode="hard")
    fig.update_layout(template=TEMPLATE, height=400, margin=_MARGIN, violingap=0.1,
                      violinmode="overlay", yaxis_title="cosine score",
                      title=title or f"Score distribution shift ({kind} pairs)")
    return fig


def loss_curves(history: list[dict], *, title: str = "Training loss") -> go.Figure:
    """Loss per epoch of each training stage (base, then each fine-tune)."""
    frame = pd.DataFrame(history)
    fig = go.Figure()
    if frame.empty:
        return fig
    for model, part in frame.groupby("model", sort=False):
        for col, dash in (("loss", "solid"), ("infonce", "dot"), ("triplet", "dash")):
            if col in part and part[col].notna().any() and (col == "loss" or model != "base"):
                fig.add_scatter(x=part["epoch"], y=part[col], mode="lines+markers",
                                name=f"{_label(model)} {col}",
                                line=dict(color=MODEL_COLOURS.get(model), dash=dash))
    fig.update_layout(template=TEMPLATE, height=360, margin=_MARGIN, title=title,
                      xaxis_title="epoch", yaxis_title="loss")
    return fig


def joint_map(coords: np.ndarray, points: pd.DataFrame, triplets: pd.DataFrame, *,
              title: str = "Texts and proteins in the shared space") -> go.Figure:
    """Proteins and texts in one 2-D projection; each triplet (anchor text, its protein,
    the twin) drawn as a line text -> protein (green) and text -> twin (red).

    ``points``: kind ("protein"/"text"), label, hover; row i is ``coords[i]``.
    ``triplets``: text_row, pos_row, neg_row (rows of ``points``).
    """
    fig = go.Figure()
    for kind, symbol, colour in (("protein", "circle", "#264653"), ("text", "diamond",
                                                                     "#e9c46a")):
        m = (points["kind"] == kind).to_numpy()
        fig.add_scattergl(x=coords[m, 0], y=coords[m, 1], mode="markers", name=kind + "s",
                          marker=dict(symbol=symbol, size=6 if kind == "protein" else 9,
                                      color=colour, opacity=0.55),
                          text=points.loc[m, "hover"], hovertemplate="%{text}<extra></extra>")
    for col, colour, name in (("pos_row", "#2a9d8f", "text → its protein"),
                              ("neg_row", "#e76f51", "text → twin")):
        xs, ys = [], []
        for t, p in zip(triplets["text_row"], triplets[col], strict=True):
            xs += [coords[t, 0], coords[p, 0], None]
            ys += [coords[t, 1], coords[p, 1], None]
        fig.add_scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                        line=dict(color=colour, width=1.5))
    fig.update_layout(template=TEMPLATE, height=520, margin=_MARGIN, title=title,
                      xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False))
    return fig
