"""Saliency sanity checks (model randomisation, completeness), mutagenesis and the rank test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

from core.alphabet import AA20, tokenize
from core.models.triplet_cnn import TripletCNNEncoder
from core.mutagenesis import (
    acquisition,
    heatmap_matrix,
    mutagenesis,
    mutant_pooled,
    rank_mutants,
    single_mutants,
)
from core.saliency import SaliencyConfig, compute_saliency, randomized_copy, target_values
from core.saliency_analysis import default_proteins, mutated_columns, pick_parent, rank_test, tracks
from core.tasks.property_config import PropertyConfig
from core.tasks.property_model import PropertyModel

HOT = (6, 14, 23, 33)  # 0-based positions whose substitutions change the label


def _library(n: int = 60, length: int = 44, seed: int = 0) -> pd.DataFrame:
    """A parent and mutants with 1-3 substitutions at a few hot positions (plus one neutral
    random substitution each); the label depends on the hot positions only."""
    rng = np.random.default_rng(seed)
    parent = "".join(rng.choice(list(AA20), length))
    rows = [{"id": "parent", "sequence": parent, "y": 0.0, "m": 0, "parent": "parent"}]
    for k in range(n):
        seq = list(parent)
        hot = rng.choice(HOT, rng.integers(1, 4), replace=False)
        for p in hot:
            seq[p] = rng.choice([a for a in "WFYH" if a != parent[p]])
        cold = rng.choice([p for p in range(length) if p not in HOT])
        seq[cold] = rng.choice([a for a in AA20 if a != parent[cold]])
        rows.append({"id": f"v{k}", "sequence": "".join(seq), "y": float(len(hot)) * 10
                     + rng.normal(0, 0.5), "m": len(hot) + 1, "parent": "parent"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted():
    table = _library()
    cfg = PropertyConfig(n_models=1, gp_restarts=0).with_train(epochs=15, min_epochs=15)
    model = PropertyModel(cfg).fit(table["sequence"].tolist(), table["y"].to_numpy())
    return model, table


def test_torch_gp_mean_equals_the_readout(fitted):
    model, table = fitted
    seqs = table["sequence"].tolist()[:6]
    mean, _ = model.predict(seqs)
    np.testing.assert_allclose(target_values(model, seqs), mean, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("baseline", ["padding", "parent", "composition"])
def test_integrated_gradients_completeness(fitted, baseline):
    """Attributions sum to f(x) - f(baseline) up to the quadrature error, which Captum reports
    as the convergence delta. ReLUs and the max pool make the path integrand kinked, so the
    error falls only about as 1/steps (measured: at most 0.10, 0.05, 0.012 label units at 64,
    256, 1024 steps); with 256 steps we ask for 3 % of the explained difference plus 1 % of
    the label's standard deviation (0.08 here)."""
    model, table = fitted
    seqs = table["sequence"].tolist()[1:3]
    cfg = SaliencyConfig(method="ig", baseline=baseline, n_steps=256, internal_batch_size=512)
    scores = compute_saliency(model, seqs, config=cfg, parent=table["sequence"].iloc[0])
    per = scores.groupby("id", sort=False).agg(total=("score", "sum"), delta=("delta", "first"))
    assert np.isfinite(per["delta"]).all()
    tol = 0.03 * per["total"].abs() + 0.01 * table["y"].std()
    assert (per["delta"].abs() <= tol).all(), per


def test_completeness_for_embedding_and_distance_targets(fitted):
    model, table = fitted
    seqs = table["sequence"].tolist()[1:2]
    for cfg, ref in ((SaliencyConfig(method="ig", target="embedding_dim", dim=3, n_steps=256,
                                     internal_batch_size=512), None),
                     (SaliencyConfig(method="ig", target="distance", n_steps=256,
                                     internal_batch_size=512), table["sequence"][0])):
        scores = compute_saliency(model, seqs, config=cfg, reference=ref)
        per = scores.groupby("id", sort=False).agg(total=("score", "sum"),
                                                   delta=("delta", "first"))
        # Embedding coordinates live on the unit sphere: 1e-2 is 1 % of its radius.
        assert (per["delta"].abs() <= 0.03 * per["total"].abs() + 1e-2).all(), per


@pytest.mark.parametrize("method", ["maxpool", "ig", "gradxinput"])
def test_model_randomisation(fitted, method):
    """Adebayo et al. (2018): a map that survives re-drawing the weights explains the input,
    not the model. Threshold 0.5 on the median Spearman rho over proteins: at rho = 0.5 the two
    rankings share a quarter of their variance; for 44 independent positions rho has a null
    standard deviation of 1/sqrt(43) = 0.15, so 0.5 is about 3 SD above chance while a
    method that ignores the weights (e.g. an edge detector) scores near 1."""
    model, table = fitted
    seqs = table["sequence"].tolist()[1:9]
    cfg = SaliencyConfig(method=method, n_steps=16)
    trained = compute_saliency(model, seqs, config=cfg)
    again = compute_saliency(model, seqs, config=cfg)
    random = compute_saliency(randomized_copy(model, seed=1), seqs, config=cfg)
    np.testing.assert_allclose(trained["absolute"], again["absolute"], atol=1e-6)
    rhos = [spearmanr(a, b)[0] for (_, a), (_, b) in
            zip(trained.groupby("id", sort=False)["absolute"],
                random.groupby("id", sort=False)["absolute"], strict=True)]
    assert np.nanmedian(rhos) < 0.5, rhos


def test_saliency_table_shape_and_normalisation(fitted):
    model, table = fitted
    seqs = table["sequence"].tolist()[:3]
    scores = compute_saliency(model, seqs, ids=["a", "b", "c"])
    assert len(scores) == sum(len(s) for s in seqs)
    assert list(scores["id"].unique()) == ["a", "b", "c"]
    for _, part in scores.groupby("id"):
        assert part["absolute"].max() == pytest.approx(1.0)
        assert part["absolute"].min() >= 0 and part["signed"].abs().max() == pytest.approx(1.0)
    assert "".join(scores.loc[scores["id"] == "a", "residue"]) == seqs[0]


def test_mutant_pooled_is_exact():
    torch.manual_seed(0)
    enc = TripletCNNEncoder().eval()
    seq = "MKTAYIAKQRQISFVKSHFSRQ"
    pooled = mutant_pooled(enc, seq)  # (L, 20, C)
    muts, seqs, _ = single_mutants(seq)
    with torch.no_grad():
        ref = enc.pool(torch.as_tensor(tokenize(seqs)))
    got = pooled[[m.position - 1 for m in muts], [AA20.index(m.mt) for m in muts]]
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_mutagenesis_table_and_ranking(fitted):
    model, table = fitted
    parent = table["sequence"].iloc[0]
    muts, info = mutagenesis(model, parent)
    assert len(muts) == len(parent) * 19 == info["n_variants"]
    assert muts["mutation"].iloc[0] == f"{parent[0]}1{[a for a in AA20 if a != parent[0]][0]}"
    mean, std = model.predict([parent[:3] + "W" + parent[4:]])
    row = muts[muts["mutation"] == f"{parent[3]}4W"].iloc[0]
    assert row["mean"] == pytest.approx(mean[0], rel=1e-5) and row["std"] > 0
    top = rank_mutants(muts, kind="ucb", weight=1.0, incumbent=info["wild_type_mean"], top=5)
    assert list(top["rank"]) == [1, 2, 3, 4, 5]
    assert top["score"].is_monotonic_decreasing
    mat = heatmap_matrix(muts, parent, wild=info["wild_type_mean"])
    assert mat.shape == (20, len(parent)) and np.isfinite(mat).all()


def test_acquisition_functions():
    mean, std = np.array([1.0, 1.0, 2.0]), np.array([0.1, 1.0, 0.1])
    ei = acquisition(mean, std, kind="ei", incumbent=1.5)
    assert ei[1] > ei[0] and ei[2] > ei[1]  # uncertainty helps, a better mean more
    low = acquisition(mean, std, kind="ucb", weight=2.0, incumbent=0, maximize=False)
    assert low[0] > low[2]  # minimising: the lower mean wins


def test_rank_test_detects_salient_positions():
    rng = np.random.default_rng(0)
    a = rng.random(200)
    top = np.argsort(a)[-5:]
    assert rank_test(a, top, n_permutations=2000).p_value < 0.01
    mid = rank_test(a, rng.choice(200, 10, replace=False), n_permutations=2000)
    assert 0.0 < mid.p_value <= 1.0 and 0 <= mid.mean_percentile <= 1


def test_parent_mutants_marks_and_tracks(fitted):
    model, table = fitted
    assert pick_parent(table) == "parent"
    ids = default_proteins(table, "y")
    assert ids[0] == "parent" and len(ids) == 3
    marks = mutated_columns(table["sequence"].iloc[1], table["sequence"].iloc[0])
    assert marks and all(m.label[1:-1].isdigit() for m in marks)
    scores = compute_saliency(model, table.set_index("id").loc[ids, "sequence"], ids=ids)
    long, marked = tracks(table, scores, ids, "parent")
    assert set(long["id"]) == set(ids) and marked["parent"] == []
    assert long.groupby("id").size().nunique() == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_saliency_and_mutagenesis_on_gpu_match_cpu(fitted):
    import copy

    model, table = fitted
    seqs = table["sequence"].tolist()[:3]
    gpu = copy.copy(model)
    gpu.encoders_ = [copy.deepcopy(e).to("cuda") for e in model.encoders_]
    gpu.device = "cuda"
    for method in ("maxpool", "ig"):
        cfg = SaliencyConfig(method=method, n_steps=16)
        np.testing.assert_allclose(compute_saliency(gpu, seqs, config=cfg)["score"],
                                   compute_saliency(model, seqs, config=cfg)["score"],
                                   rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(mutant_pooled(gpu.encoders_[0], seqs[0]).cpu(),
                               mutant_pooled(model.encoders_[0], seqs[0]), atol=1e-4, rtol=1e-4)


def test_close_mutation_labels_lean_apart():
    from core.plots_saliency import _label_positions
    # 100 columns shown: labels closer than 5 columns alternate left / right, lone ones centre
    assert _label_positions([10, 50, 52, 54, 90], span=100) == [
        "top center", "top left", "top right", "top left", "top center"]
    assert _label_positions([], span=100) == []


def test_track_names_do_not_repeat_the_id():
    from core.plots_saliency import _row_name
    assert _row_name("parent", {"parent": "parent"}, " ") == "parent"
    assert _row_name("W122L", {"W122L": "least"}, "\n") == "least\nW122L"
    assert _row_name("x", None, " ") == "x"
