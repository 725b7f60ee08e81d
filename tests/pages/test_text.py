"""Text search page, through the real backend on a tiny protein–text set."""
from __future__ import annotations

import pytest

from core.jobs import run_inline
from core.store import RunStore
from tests.conftest import shared_data_or_skip
from tests.core.test_text import tiny_table
from tests.pages.conftest import open_page

TINY = {"train": {"epochs": 3}, "finetune_epochs": 2, "finetune": ["triplet", "mixed"], "dim": 16,
        "min_df": 1}


def tiny_run(workspace) -> str:
    """A finished text.fit run on 32 synthetic proteins (mined twins, paper protocol)."""
    store = RunStore(workspace)
    run_id = run_inline("text.fit", {"table": tiny_table(), "protocol": "paper",
                                     "twins": "mine", "twin_config": {"workers": 1},
                                     "config": TINY},
                        store, method="text", name="tiny text run", seed=0)
    run = store.get(run_id)
    assert run.status == "done", run.error
    return run_id


@pytest.mark.slow
def test_page_shows_results_and_searches_text(app, workspace):
    shared_data_or_skip("protein_text")  # the page opens on the built-in set
    run_id = tiny_run(workspace)
    run = RunStore(workspace).get(run_id)
    assert {"baseline_infonce", "triplet", "mixed", "mixed_ensemble"} == set(
        run.summary["models"])
    assert run.summary["final_model"] == "mixed_ensemble" and run.summary["ensemble"]
    assert 0 <= run.metrics["pairwise_acc_easy"] <= 1
    at = open_page(app, "text.py")
    assert not at.exception, at.exception
    labels = {m.label for m in at.metric}
    assert {"Hard accuracy", "Easy accuracy"} <= labels
    assert at.selectbox(key="text.w.features").options == ["auto", "kmer", "near", "kmer+near"]
    assert at.selectbox(key="text.w.stats_reference").options == ["auto", "train", "all"]
    # the paper protocol counts relatives among the training proteins, and the caption says so
    assert any("protein features: **trained k-mer bag + neighbourhood statistics (identity, "
               "among the training proteins)**" in c.value for c in at.caption)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Score distribution shift" in specs and "Pairwise ranking accuracy" in specs
    at.text_area(key="text.w.query").set_value("confers resistance to carbapenems")
    at.button(key="FormSubmitter:text.w.search_form-Search").click().run()
    assert not at.exception, at.exception
    hits = at.session_state["text.hits"]
    assert len(hits) == 10 and hits["score"].is_monotonic_decreasing
    assert set(hits.columns) >= {"rank", "id", "text", "score"}


def test_page_without_runs_says_how_to_start(app, workspace):
    shared_data_or_skip("protein_text")
    at = open_page(app, "text.py")
    assert not at.exception
    assert any("No retrieval model yet" in i.value for i in at.info)
