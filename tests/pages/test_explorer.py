"""Embedding Explorer page, through the real backend on tiny data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.io import dataset_fingerprint
from core.store import RunStore
from tests.pages.conftest import open_page

SUBMIT = "FormSubmitter:explorer.w.form-Embed and map"


def _keep(workspace, table: pd.DataFrame, name: str) -> dict:
    fp = dataset_fingerprint(table)
    key = RunStore(workspace).save_dataset(table, name=name, fingerprint=fp)
    return {"source": "upload", "name": name, "n": len(table), "fingerprint": fp, "key": key}


def _map_args(at) -> list[dict]:
    """The arguments each lasso-map component was drawn with (its figure JSON among them)."""
    import json

    return [json.loads(c.proto.json_args) for c in at.get("component_instance")]


def _open(app, active: dict):
    at = app.run()
    at.session_state["app.dataset"] = active
    at = open_page(at, "explorer.py")
    at.radio(key="explorer.w.source").set_value("Active data set").run()
    return at


def test_kmer_pca_map_selection_and_saved_selection(app, workspace, synthetic):
    at = _open(app, _keep(workspace, synthetic, "toy"))
    assert not at.exception
    assert any("Embed and map" in i.value for i in at.info)
    at.selectbox(key="explorer.w.encoder").set_value("kmer")
    at.radio(key="explorer.w.method").set_value("pca")
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception
    result = at.session_state["explorer.result"]
    assert result["source"] == "kmer" and np.asarray(result["coords"]).shape == (30, 2)
    spec = _map_args(at)[0]["figure"]
    assert "fam0_00" in spec and "scattergl" in spec  # ids travel in customdata, WebGL
    # A lasso as the map component reports it: the page publishes the ids for other pages.
    at.session_state["explorer.map"] = {"seq": 1.5, "ids": ["fam1_00", "fam1_01", "nope"],
                                        "lasso": [{"x": [0, 1, 1], "y": [0, 0, 1]}], "box": []}
    at.run()
    assert not at.exception
    assert at.session_state["explorer.selection_ids"] == ["fam1_00", "fam1_01"]
    assert any("2 proteins selected" in m.value for m in at.markdown)
    at.text_input(key="explorer.w.name").set_value("two of fam1")
    at.button(key="explorer.w.save").click().run()
    assert (workspace / "selections" / "two_of_fam1.json").is_file()
    at.button(key="explorer.w.clear").click().run()
    assert "explorer.selection_ids" not in at.session_state
    at.button(key="explorer.w.reload").click().run()
    assert not at.exception
    assert at.session_state["explorer.highlight"] == ["fam1_00", "fam1_01"]
    # Compare: the same source and projection again gives the same map (kNN overlap 1)
    at.selectbox(key="explorer.w.cmp_source").set_value("kmer")
    at.radio(key="explorer.cmp.w.method").set_value("pca")
    at.button(key="FormSubmitter:explorer.w.cmp_form-Make the second map").click().run()
    assert not at.exception, at.exception
    assert len(_map_args(at)) >= 3  # the map and the two compared maps
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["kNN overlap between the two maps (k=10)"]) == pytest.approx(1.0)
    assert 0.5 < float(metrics["Trustworthiness"]) <= 1.0


@pytest.mark.slow
def test_tsne_map_places_new_sequences_without_moving_old_points(app, workspace, synthetic):
    at = _open(app, _keep(workspace, synthetic, "toy"))
    at.selectbox(key="explorer.w.encoder").set_value("kmer")
    at.radio(key="explorer.w.method").set_value("tsne")
    at.number_input(key="explorer.w.perplexity").set_value(5.0)
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception
    before = np.array(at.session_state["explorer.result"]["coords"], copy=True)
    fasta = "".join(f">new{i}\n{s}\n" for i, s in enumerate(synthetic["sequence"][:3]))
    at.text_area(key="explorer.w.place_text").set_value(fasta)
    at.button(key="explorer.w.place").click().run()
    assert not at.exception, at.exception
    placed = at.session_state["explorer.placed"]
    assert placed["id"].tolist() == ["new0", "new1", "new2"]
    assert any("moved by at most 0" in s.value for s in at.success)
    assert np.array_equal(before, at.session_state["explorer.result"]["coords"])


def test_a_million_points_are_aggregated_with_drill_down(app, workspace):
    n = 1_000_000
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "sequence": "MKV",
                          "group": rng.integers(0, 5, n).astype(str)})
    active = _keep(workspace, table, "million")
    at = _open(app, active)
    coords = rng.normal(size=(n, 2)).astype(np.float32)
    at.session_state["explorer.result"] = {
        "source": None, "dataset": "million", "fingerprint": active["fingerprint"], "seed": 0,
        "device": "auto", "config": {"method": "umap", "perplexity": 30.0, "n_neighbors": 15,
                                     "min_dist": 0.1, "metric": "euclidean", "seed": 0},
        "ids": table["id"].tolist(), "coords": coords, "how": "test"}
    at.run()
    assert not at.exception, at.exception
    assert any("counts them in a grid" in i.value for i in at.info)
    assert "Density of 1,000,000 points" in at.get("plotly_chart")[0].proto.spec
    # drill down: the default region holds the leftmost tenth of the x range
    x0, x1 = at.slider(key="explorer.w.xr").value
    inside = int(((coords[:, 0] >= x0) & (coords[:, 0] <= x1)).sum())
    assert any(f"{inside:,} proteins in the region" in c.value for c in at.caption)


def test_runs_page_explore_opens_a_runs_encoder_on_its_own_proteins(app, workspace, synthetic):
    from tests.core.test_explorer import _fake_kmer_scan_run

    store = RunStore(workspace)
    run = _fake_kmer_scan_run(store, synthetic)
    active = {"source": "upload", "name": "toy", "n": len(synthetic),
              "fingerprint": dataset_fingerprint(synthetic),
              "key": store.list_datasets()[0]["key"]}
    at = app.run()
    at.session_state["app.dataset"] = active
    at = open_page(at, "runs.py")
    at.session_state["runs.selected"] = run.id
    at.run()
    at.button(key="runs.w.explore").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="explorer.w.encoder").value == f"run:{run.id}"
    # AppTest's next run starts from the page it last switched to itself: go there for real
    at.switch_page("pages/views/explorer.py")
    at.run()
    at.radio(key="explorer.w.source").set_value("Active data set").run()
    at.selectbox(key="explorer.w.encoder").set_value(f"run:{run.id}")
    at.radio(key="explorer.w.method").set_value("pca")
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception
    assert at.session_state["explorer.result"]["how"] == "stored by the run"
