"""`python -m core saliency` on a saved run: per-residue scores and the single-mutant scan."""
from __future__ import annotations

import pandas as pd

from core.__main__ import main
from core.jobs import run_inline
from core.store import RunStore
from tests.core.test_saliency import _library


def test_cli_writes_scores_and_mutants(workspace, tmp_path):
    table = _library(n=20, length=40)
    config = {"n_models": 1, "gp_restarts": 0, "train": {"epochs": 2, "min_epochs": 1}}
    run_id = run_inline("property.fit", {"table": table, "label": "y", "config": config},
                        RunStore(workspace), method="property", config=config)
    out = tmp_path / "scores.csv"
    assert main(["saliency", "--run", run_id, "--out", str(out)]) == 0
    scores = pd.read_csv(out, keep_default_na=False)
    assert scores["id"].iloc[0] == "parent" and scores["id"].nunique() == 3
    assert {"position", "residue", "signed", "absolute", "mutation"} <= set(scores.columns)
    mutated = scores[scores["mutation"] != ""]
    assert len(mutated) and mutated["mutation"].str.match(r"^[A-Z]\d+[A-Z]$").all()
    assert (mutated["id"] != "parent").all()

    out = tmp_path / "mutants.csv"
    assert main(["saliency", "--run", run_id, "--ids", "v3", "--mutagenesis",
                 "--out", str(out)]) == 0
    mutants = pd.read_csv(out)
    assert len(mutants) == 40 * 19 and mutants["rank"].tolist()[:3] == [1, 2, 3]
