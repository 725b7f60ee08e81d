"""Clustering page, through the real backend on a 3-family subset of scan10."""
from __future__ import annotations

import pytest

from core.io import dataset_fingerprint
from core.store import RunStore
from tests.conftest import shared_data_or_skip
from tests.pages.conftest import open_page, wait_for_run


@pytest.fixture
def three_families(workspace):
    """Keep a 3-family, 90-protein subset of scan10 as the active data set."""
    shared_data_or_skip("scan10")
    from core.datasets import load

    table = load("scan10")
    families = sorted(table["family_name"].unique())[:3]
    subset = (table[table["family_name"].isin(families)].groupby("family_name").head(30)
              .reset_index(drop=True))
    fp = dataset_fingerprint(subset)
    key = RunStore(workspace).save_dataset(subset, name="scan10 x3", fingerprint=fp)
    return {"source": "upload", "name": "scan10 x3", "n": len(subset), "fingerprint": fp,
            "key": key}


@pytest.mark.slow
def test_cluster_three_families_and_see_nmi_curve_and_confusion(app, workspace, three_families):
    at = app.run()
    at.session_state["app.dataset"] = three_families
    at = open_page(at, "clustering.py")
    assert not at.exception
    at.radio(key="scan.w.source").set_value("Active data set").run()
    at.selectbox(key="scan.w.label").set_value("family_name").run()
    assert at.number_input(key="scan.w.k.scan10 x3.family_name").value == 3
    at.selectbox(key="scan.w.encoder").set_value("kmer")
    at.button(key="FormSubmitter:scan.w.form-Cluster").click().run()
    assert not at.exception
    store = RunStore(workspace)
    run = wait_for_run(store, store.list(method="scan")[0].id, 600)
    assert run.status == "done", run.error
    at.run()
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"NMI", "ARI", "Accuracy (matched)", "AUPR"} <= labels
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "NMI during SeqSCAN training" in specs and "Hungarian-matched confusion" in specs
    assert run.metrics["nmi"] > 0.5  # three Pfam families are easy to tell apart
    assert any("Sequence logo of" in m.value for m in at.markdown)


@pytest.mark.slow
def test_sweep_suggests_a_number_of_clusters_and_fills_it_in(app, workspace, three_families):
    at = app.run()
    at.session_state["app.dataset"] = three_families
    at = open_page(at, "clustering.py")
    at.radio(key="scan.w.source").set_value("Active data set").run()
    at.selectbox(key="scan.w.label").set_value("family_name").run()
    at.selectbox(key="scan.w.encoder").set_value("kmer").run()
    at.multiselect(key="scan.w.sweep_ks").set_value([2, 3, 4, 5]).run()
    at.button(key="scan.w.sweep").click().run()
    store = RunStore(workspace)
    run = wait_for_run(store, store.list(method="scan_sweep")[0].id)
    assert run.status == "done", run.error
    at.run()
    assert not at.exception
    best = int(run.metrics["suggested_k"])
    assert best in (2, 3, 4, 5)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "How many clusters?" in specs
    at.button(key="scan.w.use_k").click().run()
    assert at.number_input(key="scan.w.k.scan10 x3.family_name").value == best
