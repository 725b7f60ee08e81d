"""Families page, through the real backend on three pfam25 families with tiny settings."""
from __future__ import annotations

import pytest

from core.store import RunStore
from tests.conftest import shared_data_or_skip
from tests.pages.conftest import open_page, wait_for_run

FAMILIES = ["HTH_1", "Maf", "SRP54_N"]


def test_page_opens_and_offers_the_pfam25_families(app, workspace):
    shared_data_or_skip("pfam25")
    at = open_page(app, "families.py")
    assert not at.exception
    assert "HTH_1" in at.multiselect(key="families.w.subset.pfam25").options
    assert any("No fingerprint run yet" in i.value for i in at.info)


@pytest.mark.slow
def test_train_three_families_and_see_bars_and_table(app, workspace):
    shared_data_or_skip("pfam25")
    at = open_page(app, "families.py")
    at.multiselect(key="families.w.subset.pfam25").set_value(FAMILIES).run()
    at.number_input(key="families.w.per_family").set_value(20)
    at.number_input(key="families.w.vae_epochs").set_value(3)
    at.number_input(key="families.w.cnn_epochs").set_value(3)
    at.button(key="FormSubmitter:families.w.form-Train").click().run()
    assert not at.exception
    store = RunStore(workspace)
    run = wait_for_run(store, store.list(method="families")[0].id, 600)
    assert run.status == "done", run.error
    at.run()
    assert not at.exception, at.exception
    labels = {m.label for m in at.metric}
    assert "Most-common-residue agreement" in labels
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "mean BLOSUM62" in specs and "Confusion matrix" in specs
    tables = [d.value for d in at.dataframe if "family" in d.value.columns]
    assert any({"Average", "Paper average (48 families)"} <= set(t["family"]) for t in tables)
    assert set(run.summary["class_names"]) == set(FAMILIES)
