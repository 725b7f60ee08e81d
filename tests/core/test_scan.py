"""SCAN: losses, neighbour mining, the fit loop, the job (run_inline) and the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.models.scan_head import SCANHead
from core.tasks.scan import ScanConfig, fit_scan, mine_neighbours, preprocess
from core.tasks.scan_losses import scan_loss, self_label_loss

FAST = {"n_clusters": 3, "knn": 5, "n_heads": 2, "epochs": 1, "min_steps": 80,
        "batch_size": 16}


def _features(n_per: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 3
    labels = np.repeat(np.arange(3), n_per)
    return (centres[labels] + rng.normal(size=(3 * n_per, 16))).astype(np.float32), labels


def test_head_shapes_and_select():
    head = SCANHead(16, 4, n_heads=3)
    assert head(torch.zeros(5, 16)).shape == (3, 5, 4)
    assert head.select(1)(torch.zeros(5, 16)).shape == (1, 5, 4)
    assert SCANHead(16, 4, n_heads=2, hidden=8)(torch.zeros(5, 16)).shape == (2, 5, 4)


def test_entropy_term_rewards_spread_predictions():
    confident = torch.full((2, 8, 4), -10.0)
    collapsed, spread = confident.clone(), confident.clone()
    collapsed[..., 0] = 10.0  # everyone in cluster 0
    spread[:, torch.arange(8), torch.arange(8) % 4] = 10.0  # two per cluster
    t_c, cons_c, ent_c = scan_loss(collapsed, collapsed, entropy_weight=5.0)
    t_s, cons_s, ent_s = scan_loss(spread, spread, entropy_weight=5.0)
    assert torch.allclose(ent_s, torch.tensor(np.log(4.0), dtype=torch.float32), atol=1e-4)
    assert (ent_c < 1e-3).all() and (t_s < t_c).all()
    assert torch.allclose(cons_c, cons_s, atol=1e-4)  # both perfectly consistent
    assert scan_loss(spread[0], spread[0])[0].dim() == 0  # 2-D input gives a scalar


def test_scan_loss_decreases_over_steps():
    x, _ = _features()
    nb = torch.from_numpy(mine_neighbours(x, 5))
    xt = torch.from_numpy(x)
    torch.manual_seed(0)
    head = SCANHead(16, 3, n_heads=2)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        total = scan_loss(head(xt), head(xt[nb[:, 0]]))[0]
        opt.zero_grad()
        total.sum().backward()
        opt.step()
        losses.append(total.sum().item())
    assert losses[-1] < losses[0] and losses[3] < losses[0]


def test_self_label_loss_uses_only_confident_samples():
    weak = torch.tensor([[5.0, 0.0], [0.1, 0.0]])
    loss, n = self_label_loss(weak, torch.zeros(2, 2), threshold=0.99)
    assert n == 1 and loss.item() == pytest.approx(np.log(2.0), abs=1e-5)
    loss, n = self_label_loss(torch.zeros(2, 2), torch.zeros(2, 2))
    assert n == 0 and loss.item() == 0.0


def test_mined_neighbours_match_sklearn():
    from sklearn.neighbors import NearestNeighbors

    x, _ = _features()
    ours = mine_neighbours(x, 4, chunk=7)
    ref = NearestNeighbors(n_neighbors=5, metric="cosine", algorithm="brute").fit(x)
    theirs = ref.kneighbors(x, return_distance=False)[:, 1:]
    assert (ours == theirs).mean() > 0.98  # ties aside
    assert not (ours == np.arange(len(x))[:, None]).any()


def test_preprocess_center_l2():
    x, _ = _features()
    z, mean, scale = preprocess(x)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(mean, x.mean(0), atol=1e-5)


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_fit_is_seeded_finds_blobs_and_leaves_global_rng_alone():
    x, labels = _features()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    cfg = ScanConfig(**FAST)
    a = fit_scan(x, cfg, seed=1, labels=labels)
    assert torch.rand(1) == before  # global torch RNG untouched
    b = fit_scan(x, cfg, seed=1)
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)
    assert a.probabilities.shape == (60, 3) and a.neighbours.shape == (60, 5)
    assert a.history[-1]["nmi"] > 0.9 and "nmi" not in b.history[-1]
    assert a.best_head == int(np.argmin(a.head_losses))


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_self_label_keeps_scan_probabilities():
    x, labels = _features()
    fit = fit_scan(x, ScanConfig(**FAST, self_label=True, self_label_epochs=3), labels=labels)
    assert fit.scan_probabilities is not None
    assert [h["stage"] for h in fit.history][-3:] == ["selflabel"] * 3


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_fit_job_through_run_inline(workspace, synthetic):
    from core.jobs import run_inline
    from core.store import RunStore

    store = RunStore()
    rid = run_inline("scan.fit", {"table": synthetic, "label": "family", "encoder": "kmer",
                                  "config": FAST}, store, method="scan", seed=0, device="cpu")
    run = store.get(rid)
    assert run.status == "done", run.error
    assert run.summary["key_metric"]["name"] == "nmi"
    assert {"nmi", "ari", "acc", "aupr", "silhouette", "purity_k5"} <= set(run.metrics)
    arrays = store.load_arrays(rid)
    assert arrays["probabilities"].shape == (30, 3) and arrays["ids"].dtype.kind == "U"
    assert {"head"} <= set(store.load_weights(rid))
    for name in ("assignments", "confusion", "per_class", "baselines", "prototypes",
                 "alignments"):
        assert len(store.load_table(rid, name)) > 0
    aligned = store.load_table(rid, "alignments")
    assert set(aligned["cluster"]) == set(store.load_table(rid, "assignments")["cluster"])
    for _, part in aligned.groupby("cluster"):  # one profile per cluster: equal widths
        assert part["aligned"].str.len().nunique() == 1
    assert store.load_table(rid, "baselines")["method"].tolist() == [
        "pca_kmeans", "kmeans", "length_kmeans"]


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_fit_job_without_labels(workspace, synthetic):
    from core.jobs import run_inline
    from core.store import RunStore

    store = RunStore()
    rid = run_inline("scan.fit", {"table": synthetic, "label": None, "encoder": "kmer",
                                  "config": FAST}, store, method="scan", device="cpu")
    run = store.get(rid)
    assert run.status == "done", run.error
    assert run.summary["key_metric"]["name"] == "silhouette" and "nmi" not in run.metrics


@pytest.mark.slow  # > 5 s on the shared 2-core CPU
def test_cli_train_on_a_fasta_file(workspace, synthetic, tmp_path, capsys):
    from core.__main__ import main

    fasta = tmp_path / "x.fasta"
    fasta.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in synthetic.itertuples()))
    code = main(["train", "scan", "--input", str(fasta), "--encoder", "kmer", "--clusters", "3",
                 "--epochs", "1", "--min-steps", "50", "--heads", "2", "--knn", "5",
                 "--device", "cpu"])
    assert code == 0 and "done" in capsys.readouterr().out


@pytest.mark.slow
def test_fit_job_on_three_scan10_families(workspace):
    from tests.conftest import shared_data_or_skip

    shared_data_or_skip("scan10")
    from core.datasets import load
    from core.jobs import run_inline
    from core.store import RunStore

    table = load("scan10")
    fams = sorted(table["family_name"].unique())[:3]
    sub = pd.concat([table[table.family_name == f].head(50) for f in fams], ignore_index=True)
    store = RunStore()
    rid = run_inline("scan.fit", {"table": sub, "label": "family_name", "encoder": "near",
                                  "config": {"n_clusters": 3, "min_steps": 300}},
                     store, method="scan", seed=0, device="cpu")
    run = store.get(rid)
    assert run.status == "done", run.error
    assert run.metrics["nmi"] > 0.8 and run.metrics["purity_k5"] > 0.9
    confusion = store.load_table(rid, "confusion")
    assert confusion.shape == (3, 4)  # class column + 3 clusters
