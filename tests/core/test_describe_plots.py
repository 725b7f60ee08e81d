"""Descriptive statistics, projections and figure builders."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import describe, plots
from core.projection import ProjectionConfig, project


def test_composition_lists_standard_and_extra_letters():
    table = pd.DataFrame({"id": ["a", "b"], "sequence": ["AAC", "AXB"]})
    comp = describe.composition(table).set_index("residue")
    assert comp.loc["A", "count"] == 3 and comp.loc["W", "count"] == 0
    assert list(comp.index[-2:]) == ["B", "X"] and not comp.loc["X", "standard"]
    assert comp["fraction"].sum() == pytest.approx(1.0)


def test_label_columns_and_numeric_labels(synthetic):
    synthetic["parent"] = "fam0_00"
    assert describe.label_columns(synthetic) == ["family", "score"]
    assert describe.numeric_labels(synthetic) == ["score"]
    assert describe.summary(synthetic)["sequences"] == 30


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_projection_shapes_and_seed(synthetic, method):
    x = np.random.default_rng(0).normal(size=(30, 8))
    cfg = ProjectionConfig(method=method, perplexity=5, seed=1)
    a, b = project(x, cfg), project(x, cfg)
    assert a.shape == (30, 2) and np.allclose(a, b)
    assert project(x[:2], cfg).shape == (2, 2)  # tiny input handled


def test_projection_config_validates():
    with pytest.raises(ValueError):
        ProjectionConfig(method="mds")
    with pytest.raises(ValueError):
        ProjectionConfig(min_dist=2)


def test_figures_carry_ids(synthetic):
    coords = np.random.default_rng(0).normal(size=(30, 2))
    fig = plots.embedding_map(coords, synthetic, color="family", hover=["score"])
    ids = {cd[0] for trace in fig.data for cd in trace.customdata}
    assert ids == set(synthetic["id"])
    frame = pd.DataFrame({"id": ["a", "b"], "measured": [1.0, 2.0], "predicted": [1.1, 1.8],
                          "std": [0.1, 0.2], "split": ["test", "test"]})
    fig = plots.pred_vs_measured(frame, label="peak")
    assert list(fig.data[1].error_y.array) == [0.2, 0.4]  # ±2σ
    sim = np.eye(3)
    fig = plots.cluster_map(sim, ["a", "b", "c"], np.array([2, 0, 1]),
                            pd.Series([1.0, 2.0, 3.0], name="peak"))
    assert list(fig.data[1].x) == ["c", "a", "b"]
    assert plots.length_histogram(synthetic).data and plots.composition_bar(synthetic).data
    assert len(plots.loss_curve([{"epoch": 0, "loss": 1.0, "val_loss": 2.0}]).data) == 2


def test_confusion_heatmap_cells_are_clickable_markers_with_class_and_cluster():
    import pandas as pd

    from core import plots

    confusion = pd.DataFrame([[5, 1], [0, 4]], index=["famA", "famB"], columns=["c1", "c0"])
    fig = plots.confusion_heatmap(confusion)
    heat, cells = fig.data
    assert heat.type == "heatmap" and cells.type == "scatter"
    assert [list(c) for c in cells.customdata] == [["famA", "c1"], ["famA", "c0"],
                                                   ["famB", "c1"], ["famB", "c0"]]
    assert list(cells.text) == ["5", "1", "0", "4"]
    assert fig.layout.clickmode == "event+select"


def test_cluster_sweep_marks_the_suggestion():
    import pandas as pd

    from core import plots

    sweep = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.1, 0.3, 0.2],
                          "consistency": [0.1, 0.2, 0.4], "nmi": [0.5, 0.9, 0.8]})
    fig = plots.cluster_sweep(sweep, suggested=3)
    assert len(fig.data) == 3 and fig.layout.shapes[0].x0 == 3
