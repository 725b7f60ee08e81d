"""Family-fingerprint pipeline (seed 001) on tiny synthetic alignments."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import torch

from core.families import evaluate as ev
from core.families import features as F
from core.families.preprocess import PreprocessConfig, prepare, summarize
from core.families.reprof import parse_output
from core.models.family_cnn import FamilyCNN
from core.models.family_vae import FamilyVAE, vae_loss

AA = "ACDEFGHIKLMNPQRSTVWY"


def aligned_families(n_per: int = 24, width: int = 60, seed: int = 0) -> pd.DataFrame:
    """Three families of gapped rows (family-specific widths), as an MSA reader returns them."""
    rng = random.Random(seed)
    rows = []
    for fam in range(3):
        w = width + 5 * fam
        motif = [rng.choice(AA) for _ in range(w)]
        for i in range(n_per):
            row = [("-" if rng.random() < 0.1 else (rng.choice(AA) if rng.random() < 0.15
                                                    else m)) for m in motif]
            rows.append({"id": f"f{fam}_{i}", "aligned": "".join(row), "family_id": f"F{fam}"})
    t = pd.DataFrame(rows)
    t["sequence"] = t["aligned"].str.replace("-", "")
    return t


def test_prepare_reports_each_step_and_splits_by_family():
    t = aligned_families()
    t.loc[0, "aligned"] = "A" * 5 + "-" * (len(t.loc[0, "aligned"]) - 5)  # too short
    t.loc[0, "sequence"] = "A" * 5
    p = prepare(t, cfg=PreprocessConfig(per_family=20, min_family=5))
    steps = summarize(p.report).set_index("step")
    assert steps.loc["length filter", "sequences_removed"] == 1
    assert p.table.groupby("family").size().eq(20).all()
    assert set(p.table["split"]) == {"train", "val", "test"}
    assert (p.table.groupby("family")["split"].apply(lambda s: (s == "test").sum()) == 2).all()


def test_gap_rule_1_drops_sequences_with_residues_in_almost_empty_columns():
    t = aligned_families(n_per=300)
    first = t.index[t["family_id"] == "F0"][0]
    rows = t.loc[t["family_id"] == "F0", "aligned"].tolist()
    rows = [r + "-" for r in rows]
    rows[0] = rows[0][:-1] + "W"  # one residue in a new column: 1/300 > 99.5 % gaps
    t.loc[t["family_id"] == "F0", "aligned"] = rows
    p = prepare(t, cfg=PreprocessConfig(min_len=10))
    rule1 = p.report[p.report["step"].str.startswith("gap rule 1")].set_index("family")
    assert rule1.loc["F0", "sequences_removed"] == 1
    assert t.loc[first, "id"] not in set(p.table["id"])


def test_place_on_alignment_and_state_onehot():
    assert F.place_on_alignment("A-C.D", "HEL", np.array([0, 1, 2, 4])) == "H-EL"
    x = F.state_onehot(["H-E"], F.SS_STATES, 4)
    assert x.shape == (1, 4, 4) and x[0, 1, 0] == 1 and x[0, 3].sum() == 0


def test_parse_reprof_output():
    text = "# comment\nNo\tAA\tPHEL\tPbe\n1\tM\tL\te\n2\tK\tH\tb\n"
    assert parse_output(text) == ("LH", "eb")


def test_vae_shapes_seed_and_loss_drops():
    torch.manual_seed(0)
    x = torch.from_numpy(F.residue_onehot(["ACD-", "ACE-", "WCD-"], 5))
    model = FamilyVAE(5, 21)
    out = model(x)
    assert out["probs"].shape == (3, 5, 21) and out["z_mean"].shape == (3, 30)
    model.eval()
    assert torch.equal(model(x)["z"], model(x)["z_mean"])
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        loss, _, _ = vae_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_softmax_decoder_sums_to_one_and_masks_padding():
    x = torch.from_numpy(F.residue_onehot(["AC", "A-"], 3))  # third column is padding
    model = FamilyVAE(3, 21, decoder="softmax")
    out = model(x)
    assert torch.allclose(out["probs"].sum(-1), torch.ones(2, 3))
    mask = torch.from_numpy(F.padding_mask(["AC", "A-"], 3))
    _, recon, _ = vae_loss(out, x, mask)
    per_pos = -(torch.log_softmax(out["logits"], -1) * x).sum(-1)
    assert recon.item() == pytest.approx((per_pos[:, :2].sum(1)).mean().item(), rel=1e-5)
    with pytest.raises(ValueError):
        FamilyVAE(3, 21, decoder="gauss")


def test_vae_config_warmup_and_early_stopping():
    from core.families.train import VAEConfig, train_vae

    cfg = VAEConfig(kl_warmup=4, kl_weight=1.0)
    assert [cfg.kl_at(e) for e in (1, 2, 4, 9)] == [0.25, 0.5, 1.0, 1.0]
    rows = ["ACDE", "ACDF", "WCDE", "ACKE"] * 4
    x = F.residue_onehot(rows, 4)
    mask = F.padding_mask(rows, 4)
    _, hist = train_vae(x, mask, np.arange(12), np.arange(12, 16),
                        VAEConfig(epochs=200, patience=2, lr=0.5, batch_size=4))
    assert len(hist) < 200 and len(hist) - hist[-1]["best_epoch"] == 2


def test_vae_denoising_weight_decay_cosine_and_accuracy_selection():
    from core.families.train import VAEConfig, _blank_positions, train_vae

    x = torch.ones(4, 50, 3)
    blanked = _blank_positions(x, 0.5, torch.Generator().manual_seed(0))
    per_pos = blanked.sum(-1)
    assert set(per_pos.unique().tolist()) == {0.0, 3.0} and 0 < (per_pos == 0).sum() < 200
    assert torch.equal(_blank_positions(x, 0.0, None), x)
    rows = ["ACDE", "ACDF", "WCDE", "ACKE"] * 4
    cfg = VAEConfig(epochs=6, patience=0, batch_size=4, input_dropout=0.2, weight_decay=0.1,
                    lr_schedule="cosine", select="accuracy")
    _, hist = train_vae(F.residue_onehot(rows, 4), F.padding_mask(rows, 4), np.arange(12),
                        np.arange(12, 16), cfg)
    accs = [h["val_acc"] for h in hist]
    assert len(hist) == 6 and hist[-1]["best_epoch"] == int(np.argmax(accs)) + 1
    with pytest.raises(ValueError):
        VAEConfig(select="f1")
    with pytest.raises(ValueError):
        VAEConfig(input_dropout=1.0)


@pytest.mark.parametrize("space", ev.KMEANS_SPACES)
def test_kmeans_spaces_fit_on_training_folds(space):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    fp = rng.normal(0, 0.1, (90, 3)) + np.array([[4, 1, 1], [1, 4, 1], [1, 1, 4]])[y]
    assert ev.kmeans_cv(fp, y, folds=3, n_init=5, space=space)["kmeans_acc"] == 1.0
    to_space = ev.fingerprint_space(space, fp[:60])
    assert to_space(fp[60:]).shape == (30, 3)
    with pytest.raises(ValueError):
        ev.fingerprint_space("cosine", fp)


def test_kmeans_objective_check_on_separated_blobs():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    fp = rng.normal(size=(60, 4)) * 0.1 + np.eye(3, 4)[y] * 10
    out = ev.kmeans_objective_check(fp, y)
    assert out["kmeans_sse_ratio"] == pytest.approx(1.0)
    assert out["kmeans_from_family_centroids_acc"] == 1.0


def test_reconstruction_references():
    table = pd.DataFrame({"family": ["a"] * 4, "aligned": ["ACDE", "ACDF", "WKDE", "WKDF"]})
    out = ev.reconstruction_references(table, np.array([0, 1, 2]), np.array([3]))
    assert out["recon_acc_nearest_train"] == 0.75  # WKDE
    assert out["recon_acc_consensus"] == 0.25  # consensus ACDE (ties: first letter)


def test_mode_agreement_over_all_rows():
    table = pd.DataFrame({"family": ["a", "a", "a", "b"], "aligned": ["AC", "AD", "WC", "K"]})
    assert ev.mode_agreement(table, ["AC", "AC", "AC", "K"]) == 1.0
    assert ev.mode_agreement(table, ["WD", "WD", "AC", "K"]) == pytest.approx(1 / 3)


def test_cnn_shapes():
    assert FamilyCNN(4, rows=3)(torch.randn(2, 3, 30)).shape == (2, 4)
    assert FamilyCNN(4, rows=1)(torch.randn(2, 1, 30)).shape == (2, 4)


def test_reconstruction_metrics_count_only_real_columns():
    x = F.residue_onehot(["AC", "A-"], 3)  # third column is padding
    mask = F.padding_mask(["AC", "A-"], 3)
    probs = x.copy()
    probs[1, 1] = 0
    probs[1, 1, 0] = 1  # the gap reconstructed as A
    acc = ev.reconstruction_accuracy(x, probs, mask)
    assert acc["recon_acc"] == pytest.approx(3 / 4)
    assert acc["recon_acc_residues"] == 1.0
    cols = ev.common_residue_table(["AC", "AC", "A-"], ["AC", "AD", "AC"], "F")
    assert cols["agree"].tolist() == [True, True]
    assert cols.loc[1, "mean_blosum62"] == pytest.approx((9 + -3) / 2)  # C-C 9, C-D -3


def test_minkowski_rank_and_kmeans_cv():
    fam = np.array([[0.0, 0.0], [10.0, 0.0]])
    ranked = ev.minkowski_rank(np.array([9.0, 0.0]), fam, ["a", "b"], p=1)
    assert ranked["family"].tolist() == ["b", "a"] and ranked["distance"].iloc[0] == 1
    rng = np.random.default_rng(0)
    fp = np.concatenate([rng.normal(0, 0.1, (30, 2)), rng.normal(5, 0.1, (30, 2))])
    y = np.repeat([0, 1], 30)
    assert ev.kmeans_cv(fp, y, folds=3)["kmeans_acc"] == 1.0


def test_hmm_align_lands_on_family_columns():
    from core.families.hmm import align_to_hmm, best_family, build_hmm

    t = aligned_families(n_per=12)
    hmms = {f: build_hmm(f, g["aligned"].tolist()) for f, g in t.groupby("family_id")}
    row = align_to_hmm(hmms["F1"], [t["sequence"].iloc[13]])[0]
    assert len(row) == len(t["aligned"].iloc[13])
    pred, _ = best_family(hmms, t["sequence"].iloc[[0, 13, 30]].tolist())
    assert pred == ["F0", "F1", "F2"]


@pytest.mark.slow
def test_pipeline_end_to_end_residues_only():
    from core.families.pipeline import FamiliesConfig, run_pipeline
    from core.families.train import CNNConfig, VAEConfig

    cfg = FamiliesConfig(preprocess=PreprocessConfig(min_len=10, per_family=20),
                         vae=VAEConfig(epochs=3), cnn=CNNConfig(epochs=3), use_reprof=False,
                         kmeans_folds=3, projection="pca")
    out = run_pipeline(aligned_families(), cfg)
    m = out["metrics"]
    for key in ("recon_acc", "recon_acc_residues", "common_residue_agreement",
                "f1_macro_cnn_residue", "f1_macro_hmm", "f1_macro_kmer_logreg", "kmeans_acc"):
        assert 0 <= m[key] <= 1, key
    assert m["f1_macro_hmm"] == 1.0
    assert out["tables"]["per_family_cnn_residue"]["family"].iloc[-1] == "Average"
    assert out["fingerprints"]["residue"].shape == (60, 30)


def test_fingerprint_sequence_aligns_through_the_best_hmm():
    from core.families.hmm import build_hmm
    from core.tasks.families import fingerprint_sequence

    t = aligned_families(n_per=12)
    hmms = {f: build_hmm(f, g["aligned"].tolist()) for f, g in t.groupby("family_id")}
    width = t["aligned"].str.len().max()
    out = fingerprint_sequence(t["sequence"].iloc[30], hmms, FamilyVAE(width, 21).eval(), width)
    assert out["aligned_to"] == "F2" and out["fingerprint"].shape == (30,)
    assert len(out["aligned"]) == len(t["aligned"].iloc[30])
