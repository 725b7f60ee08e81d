"""Saliency page against the real backend on a tiny absorption run."""
from __future__ import annotations

import pytest

from tests.conftest import shared_data_or_skip
from tests.pages.conftest import open_page
from tests.saliency_fixtures import train_tiny_absorption_run


def test_page_without_runs_points_to_property_page(app):
    at = open_page(app, "saliency.py")
    assert not at.exception
    assert any("No property model yet" in i.value for i in at.info)


@pytest.mark.slow
def test_tracks_rank_summary_and_mutagenesis_on_a_tiny_run(app, workspace):
    shared_data_or_skip("absorption")
    train_tiny_absorption_run(workspace)
    at = open_page(app, "saliency.py")
    assert not at.exception, at.exception
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    tracks = next(c for c in charts if "Saliency per residue" in c)
    assert all(role in tracks for role in ("parent", "least", "most"))
    assert "W122" in tracks or "mutation" in tracks
    assert any("Every single substitution" in c for c in charts)
    summary = at.dataframe[0].value
    assert len(summary) == 3 and summary["p_value"].between(0, 1).all()
    mutants = at.dataframe[1].value
    assert len(mutants) == 20 and mutants["mutation"].str.match(r"^[A-Z]\d+[A-Z]$").all()
    # Integrated gradients from the parent baseline, on the same proteins.
    at.selectbox(key="saliency.w.method").set_value("ig").run()
    at.selectbox(key="saliency.w.baseline").set_value("parent").run()
    assert not at.exception, at.exception
    assert any("completeness" in c.value for c in at.caption)
    # Ids selected on an embedding map (pages/_shared/state.EXPLORER_SELECTION) feed the picker.
    at.session_state["explorer.selection_ids"] = ["W122A", "W122G"]
    at.run()
    assert "Selection on the embedding map" in at.radio(key="saliency.w.source").options
    at.radio(key="saliency.w.source").set_value("Selection on the embedding map").run()
    assert not at.exception, at.exception
    tracks = next(c.proto.spec for c in at.get("plotly_chart") if "Saliency per residue" in
                  c.proto.spec)
    assert "W122G" in tracks
