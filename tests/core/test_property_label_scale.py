"""Label scale of the property GPs: log transform, shift weights, the auto choice, round trips."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.tasks.label_scale import backward, choose_scale, forward, shift_weights
from core.tasks.property import PropertyConfig, model_name
from core.tasks.property_model import PropertyModel

TINY = PropertyConfig(encoder={"embed_dim": 16, "n_filters": 8, "out_dim": 8}, n_models=1,
                      gp_restarts=0).with_train(epochs=2, batch_size=16)


def _multiplicative(n=60, width=12, seed=0):
    """One-hot rows of random mutants whose label multiplies per mutation (E-value-like)."""
    rng = np.random.default_rng(seed)
    hits = rng.random((n, width)) < 0.3
    effects = rng.normal(0.0, 0.8, width)
    y = np.exp(1.0 + hits @ effects)
    return hits.astype(float), y, hits.sum(1).astype(float)


def test_forward_backward_and_refusals():
    y = np.array([1.0, np.e, 10.0])
    assert np.allclose(forward(y, "log"), np.log(y))
    mean, std = backward(np.log(y), np.full(3, 0.1), "log")
    assert np.allclose(mean, y) and np.allclose(std, 0.1 * y)
    assert backward(y, None, "none")[0] is y
    with pytest.raises(ValueError):
        forward(np.array([1.0, -2.0]), "log")


def test_shift_weights_favour_rows_like_the_targets():
    w = shift_weights(np.array([0, 0, 1, 1, 3, 3.0]), np.array([3, 3, 4.0]))
    assert w.mean() == pytest.approx(1.0)
    assert w[4] > w[2] > w[0]
    assert np.allclose(shift_weights([1.0, 2.0], []), 1.0)


def test_choose_scale_prefers_log_for_multiplicative_effects():
    X, y, m = _multiplicative()
    scale, scores = choose_scale(X, y, m_train=m, m_target=m[:10] + 1)
    assert scale == "log" and scores["log"] < scores["none"]
    assert choose_scale(X, y - y.max() - 1.0) == ("none", {})  # not positive: no log


def test_auto_scale_model_is_named_fitted_and_round_trips(synthetic):
    cfg = replace(TINY, committee=True, committee_kernel="auto", label_scale="auto",
                  merge_columns="auto", label_trend="auto")
    assert model_name(cfg) == "triplet_cnn_gp_auto_wide"
    assert model_name(replace(cfg, committee_kernel="linear+matern", label_trend="none")) == \
        "triplet_cnn_gp_auto"
    assert model_name(replace(TINY, label_scale="log")) == "triplet_cnn_gp_log"
    assert model_name(replace(cfg, label_trend="none")) == \
        "triplet_cnn_gp_committee_autokernel_autoscale"
    with pytest.raises(ValueError):
        replace(TINY, label_scale="sqrt")
    seqs = synthetic["sequence"].tolist()
    y = np.exp(synthetic["score"].to_numpy() / np.abs(synthetic["score"]).max())
    model = PropertyModel(cfg).fit(seqs[:24], y[:24], m=np.arange(24) % 3,
                                   target_m=np.full(6, 2.0))
    assert model.scale_ in ("none", "log") and set(model.scale_scores_) == {
        s + g + t for s in ("none", "log") for g in ("", "+grouped", "+matern")
        for t in ("", "+trend")}
    assert model.committee_["onehot"].grouped == model.merged_
    assert model.committee_["onehot"].linear == (model.kernel_ == "linear+matern")
    mean, std = model.predict(seqs[24:])
    assert (std > 0).all() and np.isfinite(mean).all()
    again = PropertyModel.from_state(cfg, *model.to_state(), profile_rows=seqs[:24])
    assert (again.scale_, again.merged_, again.kernel_) == (model.scale_, model.merged_,
                                                            model.kernel_)
    assert np.allclose(mean, again.predict(seqs[24:])[0], atol=1e-6)


def test_eval_auto_model_reports_its_scale(synthetic):
    from core.tasks.property_eval import PropertyData, fit_predict

    table = pd.DataFrame(synthetic)
    table["score"] = np.exp(table["score"] / table["score"].abs().max())
    table["m"] = np.arange(len(table)) % 4
    data = PropertyData.from_table(table, "score")
    assert data.m is not None
    out = fit_predict(data, np.arange(24), np.arange(24, 30),
                      ["triplet_cnn_gp_auto", "triplet_cnn_gp_auto_wide"],
                      config=replace(TINY, gp_restarts=0), n_ensemble=1)
    pred = out["triplet_cnn_gp_auto"]
    assert pred.scale in ("none", "log") and pred.mean.shape == pred.std.shape == (6,)
    assert pred.kernel == "linear+matern" and not pred.trend
    assert out["triplet_cnn_gp_auto_wide"].kernel in ("linear+matern", "matern")


def test_parent_distance_and_a_trend_that_extrapolates():
    from core.tasks.label_scale import choose_readout, parent_distance, parent_rows

    rng = np.random.default_rng(1)
    hits = rng.random((60, 20)) < rng.uniform(0.05, 0.6, (60, 1))
    hits[0] = False  # the parent
    X = np.stack([1 - hits, hits], axis=2).reshape(60, -1).astype(float)  # one-hot, 2 letters
    m = hits.sum(1).astype(float)
    assert np.allclose(parent_distance(X, parent_rows(X, m)), m)
    y = 2.0 * m + rng.normal(0, 0.3, 60)  # every mutation adds the same: a trend in m
    choice, scores = choose_readout(X, y, trends=(False, True), parents=parent_rows(X, m),
                                    scales=("none",), m_train=m, m_target=np.full(5, 12.0))
    assert choice.trend and scores["none+trend"] < scores["none"]


def test_trend_model_round_trips(synthetic):
    seqs = synthetic["sequence"].tolist()
    y = synthetic["score"].to_numpy()
    m = np.array([0] + [sum(a != b for a, b in zip(s, seqs[0], strict=False)) for s in seqs[1:]])
    cfg = replace(TINY, label_trend="distance")
    model = PropertyModel(cfg).fit(seqs[:24], y[:24], m=m[:24])
    assert model.trend_ is not None and model.parents_ == [seqs[0]]
    mean = model.predict(seqs[24:])[0]
    again = PropertyModel.from_state(cfg, *model.to_state(), profile_rows=seqs[:24])
    assert np.allclose(mean, again.predict(seqs[24:])[0], atol=1e-6)


def test_grouped_gp_reads_identical_columns_once():
    from core.tasks.readouts import GPReadout

    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 2, (30, 3)).astype(float)
    X = np.repeat(blocks, [5, 1, 2], axis=1)  # three chimera blocks of 5, 1 and 2 positions
    y = blocks @ np.array([1.0, 2.0, -1.0]) + rng.normal(0, 0.05, 30)
    gp = GPReadout(n_restarts=0, linear=True, varying_only=True, grouped=True).fit(X, y)
    assert gp.widths_ == [3]
    again = GPReadout.from_state(gp.state(), X, y)
    assert np.allclose(gp.predict(X[:5])[0], again.predict(X[:5])[0])
