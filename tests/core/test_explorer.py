"""Explorer backend: embedding sources and run encoders, maps that place points, sampling,
aggregation, scores and saved selections."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import embedding, explorer
from core.io import dataset_fingerprint
from core.projection import ProjectionConfig
from core.store import RunStore


def test_stratified_sample_keeps_every_stratum_in_proportion():
    strata = np.array(["a"] * 900 + ["b"] * 90 + ["c"] * 10)
    idx = explorer.stratified_sample(len(strata), 100, strata=strata, seed=1)
    assert len(idx) == 100 and len(set(idx)) == 100
    counts = pd.Series(strata[idx]).value_counts()
    assert counts["a"] == 90 and counts["b"] == 9 and counts["c"] == 1
    assert np.array_equal(explorer.stratified_sample(50, 100), np.arange(50))


def test_density_grid_counts_every_point_and_drill_down_boxes():
    coords = np.random.default_rng(0).normal(size=(100_000, 2))
    grid = explorer.density_grid(coords, bins=50)
    assert grid.total == 100_000 and grid.counts.shape == (50, 50)
    mask = explorer.in_box(coords, (0, 1), (-1, 0))
    assert mask.sum() == ((coords[:, 0] >= 0) & (coords[:, 0] <= 1) & (coords[:, 1] >= -1)
                          & (coords[:, 1] <= 0)).sum()


def test_polygon_selection():
    coords = np.array([[0.5, 0.5], [2.0, 2.0], [0.1, 0.9]])
    assert explorer.in_polygon(coords, [0, 1, 1, 0], [0, 0, 1, 1]).tolist() == [True, False, True]


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_placing_new_points_leaves_the_map_alone(method):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=8, size=(3, 10))
    x = np.concatenate([c + rng.normal(size=(20, 10)) for c in centres]).astype(np.float32)
    fitted = explorer.fit_map(x, ProjectionConfig(method=method, perplexity=5, seed=0))
    before = fitted.coords_.copy()
    placed = fitted.place(centres[:1] + 0.01)
    assert placed.shape == (1, 2)
    assert np.array_equal(before, fitted.coords_)
    # a point placed at cluster 0's centre lands among cluster 0's points
    d = np.linalg.norm(fitted.coords_ - placed[0], axis=1)
    assert np.argsort(d)[:5].max() < 20


def test_neighbourhood_scores_of_a_perfect_map():
    coords = np.random.default_rng(0).normal(size=(200, 2))
    scores = explorer.neighbourhood_scores(coords, coords, k=5)
    assert scores["trustworthiness"] == pytest.approx(1.0)
    assert scores["knn_overlap"] == pytest.approx(1.0)


def test_selection_round_trip_and_refusal(tmp_path):
    sel = explorer.Selection(name="my pick/1", ids=["a", "b"], source="kmer",
                             projection={"method": "umap"}, lasso=[{"x": [0, 1, 1], "y": [0, 0, 1]}])
    path = explorer.save_selection(sel, root=tmp_path)
    assert path.name == "my_pick_1.json"
    again = explorer.list_selections(root=tmp_path)[0]
    assert again.ids == ["a", "b"] and again.lasso == sel.lasso
    with pytest.raises(ValueError):
        explorer.Selection.from_json(b"[1, 2]")
    with pytest.raises(ValueError):
        explorer.Selection.from_json('{"ids": [], "lasso": ["x"]}')


def test_mutations_against_parent_id():
    table = pd.DataFrame({"id": ["wt", "m1"], "sequence": ["ACDE", "ACNE"],
                          "parent": ["wt", "wt"]})
    assert explorer.mutations_vs_parent(table).tolist() == ["WT", "D3N"]


def test_profile_sources_need_equal_lengths():
    out = embedding.embed("blosum", ["ACDE", "ACDF"], cache=False)
    assert out.shape == (2, 4 * 20)
    assert embedding.embed("onehot", ["ACDE", "ACD-"], cache=False).shape == (2, 4 * 21)
    with pytest.raises(ValueError, match="equal-length"):
        embedding.embed("blosum", ["ACDE", "ACD"], cache=False)


def _fake_kmer_scan_run(store: RunStore, table: pd.DataFrame):
    fp = dataset_fingerprint(table)
    store.save_dataset(table, name="toy", fingerprint=fp)
    features = embedding.embed("kmer", table["sequence"].tolist(), cache=False)
    run = store.new_run("scan", dataset={"name": "toy", "n": len(table), "fingerprint": fp})
    return store.finish(run.id, summary={"encoder": "kmer"},
                        arrays={"ids": table["id"].to_numpy().astype(str), "features": features})


def test_a_scan_run_serves_its_stored_features_and_embeds_new_ones(workspace, synthetic):
    store = RunStore(workspace)
    run = _fake_kmer_scan_run(store, synthetic)
    source = f"run:{run.id}"
    assert source in {s["source"] for s in embedding.source_status(store)}
    emb = embedding.embed_table(source, synthetic.iloc[::-1], store=store)
    assert emb.how == "stored by the run"
    stored = store.load_arrays(run.id)["features"]
    assert np.allclose(emb.features, stored[::-1])
    new = emb.embed_new(synthetic["sequence"][:2].tolist())
    assert np.allclose(new, stored[:2], atol=1e-5)  # k-mer refitted on the run's data


def test_registry_takes_a_new_method_with_one_line(workspace, monkeypatch):
    store = RunStore(workspace)
    run = store.new_run("toy_method")
    store.finish(run.id)
    monkeypatch.setitem(embedding.RUN_ENCODERS, "toy_method", "tests.core.test_explorer:_toy")
    out = embedding.embed(f"run:{run.id}", ["ACD", "AC"], store=store, cache=False)
    assert out.tolist() == [[3.0], [2.0]]


class _Toy:
    name, dim = "toy", 1

    def cache_key(self):
        return "toy"

    def embed(self, sequences, **kw):
        return np.array([[len(s)] for s in sequences], dtype=np.float32)


def _toy(store, run):
    return _Toy()


@pytest.mark.slow
def test_figures_export_as_html_and_svg():
    from core.lasso_map import standalone_html
    from core.plots_explorer import explorer_map, figure_bytes

    table = pd.DataFrame({"id": ["a", "b", "c"], "family": ["x", "y", "x"]})
    fig = explorer_map(np.eye(3)[:, :2], table, color="family")
    html = standalone_html(fig)
    assert "plotly" in html and '"a"' in html and "LassoMap.mount" in html
    data, how = figure_bytes(fig, "svg")
    if data is None:
        pytest.skip(how)  # no Chrome/Chromium for Kaleido on this machine
    assert how == "kaleido" and data.lstrip().startswith(b"<svg")
