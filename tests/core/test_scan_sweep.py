"""The number-of-clusters sweep: candidates, the silhouette's suggestion, the job."""
from __future__ import annotations

import numpy as np
import pytest

from core.tasks.scan import ScanConfig
from core.tasks.scan_sweep import candidate_ks, suggest_k, sweep_clusters


def _blobs(k: int = 4, n_per: int = 40, dim: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 4
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(k), n_per)


def test_candidates_cover_the_expected_number_and_respect_size():
    assert candidate_ks(1000)[:3] == [2, 3, 4] and max(candidate_ks(1000)) == 20
    assert {8, 9, 10, 11, 12, 20} <= set(candidate_ks(1000, expected=10))
    assert max(candidate_ks(30)) <= 6  # clusters average at least five members


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_sweep_suggests_the_true_number_of_blobs():
    x, y = _blobs()
    cfg = ScanConfig(knn=10)
    sweep = sweep_clusters(x, [2, 3, 4, 6, 8], cfg=cfg, labels=y)
    assert list(sweep["k"]) == [2, 3, 4, 6, 8]
    assert {"silhouette", "consistency", "scan_loss", "clusters_used", "nmi"} <= set(sweep)
    assert suggest_k(sweep) == 4
    assert sweep.loc[sweep["k"] == 4, "nmi"].item() > 0.9


def test_suggest_breaks_ties_towards_fewer_clusters_and_needs_a_score():
    import pandas as pd

    assert suggest_k(pd.DataFrame({"k": [3, 5, 7], "silhouette": [0.2, 0.4, 0.4]})) == 5
    with pytest.raises(ValueError):
        suggest_k(pd.DataFrame({"k": [2], "silhouette": [np.nan]}))
    with pytest.raises(ValueError, match="at least 2"):
        sweep_clusters(np.zeros((10, 2)), [1, 2])


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_sweep_job_stores_table_and_suggestion(workspace, synthetic):
    from core.jobs import run_inline
    from core.store import RunStore

    store = RunStore()
    rid = run_inline("scan.sweep", {"table": synthetic, "label": "family", "encoder": "kmer",
                                    "ks": [2, 3, 4]}, store, method="scan_sweep", device="cpu")
    run = store.get(rid)
    assert run.status == "done", run.error
    sweep = store.load_table(rid, "sweep")
    assert list(sweep["k"]) == [2, 3, 4] and "nmi" in sweep
    assert run.metrics["suggested_k"] in (2, 3, 4)
    assert run.summary["key_metric"]["name"] == "suggested_k"


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_cli_sweep_prints_the_table_and_suggestion(workspace, synthetic, tmp_path, capsys):
    from core.__main__ import main

    csv = tmp_path / "three.csv"
    synthetic[["id", "sequence", "family"]].to_csv(csv, index=False)
    code = main(["train", "scan", "--input", str(csv), "--label", "family", "--encoder", "kmer",
                 "--sweep", "2,3,4"])
    out = capsys.readouterr().out
    assert code == 0 and "silhouette" in out and "suggested number of clusters:" in out
