"""Property page: train on the absorption set through the real backend (tiny epochs)."""
from __future__ import annotations

import time

import pytest

from core.store import RunStore
from tests.conftest import shared_data_or_skip
from tests.pages.conftest import open_page


def test_page_offers_builtin_sets_and_labels(app):
    shared_data_or_skip("absorption")
    at = open_page(app, "property.py")
    assert not at.exception
    assert at.selectbox(key="property.w.builtin").value == "absorption"
    assert at.selectbox(key="property.w.label").value == "peak"
    # the form opens on the best measured model, triplet_cnn_gp_auto
    assert at.number_input(key="property.w.n_models").value == 3
    assert at.selectbox(key="property.w.committee").value == "linear+matern"
    assert at.selectbox(key="property.w.label_scale").value == "auto"
    assert at.selectbox(key="property.w.merge_columns").value == "auto"
    assert any("No property model yet" in i.value for i in at.info)


@pytest.mark.slow
def test_train_on_absorption_shows_table_and_prediction_plot(app, workspace):
    shared_data_or_skip("absorption")
    at = open_page(app, "property.py")
    at.number_input(key="property.w.epochs").set_value(2)
    at.number_input(key="property.w.n_models").set_value(1)  # keep the test short
    at.checkbox(key="property.w.baselines").uncheck()  # keep the test short
    at.selectbox(key="property.w.committee").set_value("linear+matern")
    at.selectbox(key="property.w.label_scale").set_value("auto")
    at.selectbox(key="property.w.merge_columns").set_value("auto")
    at.button(key="FormSubmitter:property.w.form-Train").click().run()
    assert not at.exception
    store = RunStore(workspace)
    runs = store.list(method="property")
    assert len(runs) == 1
    deadline = time.time() + 600
    while store.get(runs[0].id).active and time.time() < deadline:
        time.sleep(1)
    run = store.get(runs[0].id)
    assert run.status == "done", run.error
    at.run()
    assert not at.exception
    scores = at.dataframe[0].value
    ours = "triplet_cnn_gp_auto"  # the committee and label scale chosen in the form
    assert ours in scores["model"].tolist()
    assert scores.loc[scores["model"] == ours, "mae"].iloc[0] > 0
    charts = [c for c in at.get("plotly_chart")]
    assert any("Predicted vs. measured" in c.proto.spec for c in charts)
    assert run.summary["label_scale"] in ("none", "log")
    assert run.summary["committee_kernel"] == "linear+matern" and run.summary["trend"] is None
