"""Property pipeline: config, GP read-out, estimator, the job, reloading a run, the CLI."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from core.metrics import mean_se, regression_metrics
from core.tasks.property import PropertyConfig, cluster_order, prepare_table
from core.tasks.property_model import PropertyModel, mixture
from core.tasks.readouts import GPReadout
from tests.conftest import shared_data_or_skip

TINY = PropertyConfig(encoder={"embed_dim": 16, "n_filters": 8, "out_dim": 8}, n_models=1,
                      gp_restarts=0).with_train(epochs=3, batch_size=16)


def test_config_round_trip_and_validation():
    cfg = PropertyConfig(readout="embedding+blosum", n_models=2).with_train(margin=0.3)
    assert PropertyConfig.from_dict(asdict(cfg)) == cfg
    with pytest.raises(ValueError):
        PropertyConfig(readout="tsne")
    with pytest.raises(ValueError):
        PropertyConfig.from_dict({"readuot": "embedding"})
    with pytest.raises(ValueError):
        cfg.with_train(margin_mode="sometimes")


def test_prepare_table_masks(synthetic):
    synthetic.loc[[0, 5], "score"] = np.nan
    df, label = prepare_table(synthetic, "score")
    assert label == "score" and df["_train"].sum() == 28 and not df["_test"].any()
    synthetic["split"] = ["test" if i % 5 == 0 else "train" for i in range(len(synthetic))]
    df, _ = prepare_table(synthetic, "score")
    assert not (df["_train"] & df["_test"]).any()
    assert df.loc[[0, 5], ["_train", "_test"]].to_numpy().sum() == 0  # unlabelled: neither
    with pytest.raises(ValueError):
        prepare_table(synthetic.drop(columns="sequence"), "score")


def test_regression_metrics_and_coverage():
    y = np.array([0.0, 1.0, 2.0, 3.0, np.nan])
    out = regression_metrics(y, y + 0.5, np.ones(5))
    assert out["n"] == 4 and out["mae"] == pytest.approx(0.5)
    assert out["coverage_1sd"] == 1.0 and out["coverage_2sd"] == 1.0
    assert regression_metrics(y, y + 1.5, np.ones(5))["coverage_1sd"] == 0.0
    assert out["spearman"] == pytest.approx(1.0)
    assert mean_se([1.0, 3.0]) == (2.0, 1.0)


def test_mixture_of_equal_means_keeps_std():
    mean, std = mixture([np.zeros(3), np.zeros(3)], [np.ones(3), np.ones(3)])
    assert np.allclose(mean, 0) and np.allclose(std, 1)
    _, wider = mixture([np.zeros(3), np.full(3, 2.0)], [np.ones(3), np.ones(3)])
    assert np.allclose(wider, np.sqrt(2.0))


def test_gp_readout_contract_blocks_and_state():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(40, 50))
    y = 2 * a[:, 0] + 0.1 * rng.normal(size=40)
    gp = GPReadout(n_restarts=1, random_state=0)
    assert gp.fit([a[:30], b[:30]], y[:30]) is gp
    learned = [k for k in vars(gp) if k not in ("n_restarts", "nu", "noise", "random_state",
                                                 "linear", "varying_only", "grouped")]
    assert learned and all(k.endswith("_") for k in learned)
    mean, std = gp.predict([a[30:], b[30:]])
    assert mean.shape == std.shape == (10,) and (std > 0).all()
    assert np.abs(mean - y[30:]).mean() < 0.6  # the informative block is found
    again = GPReadout.from_state(gp.state(), [a[:30], b[:30]], y[:30])
    m2, s2 = again.predict([a[30:], b[30:]])
    assert np.allclose(mean, m2) and np.allclose(std, s2)
    assert set(gp.kernel_summary()) >= {"k2__noise_level"}


def test_linear_gp_readout_learns_additive_effects_and_round_trips():
    # Additive per-site effects on one-hot rows, as in a mutant library: the linear term
    # carries them, a residue never seen in training widens the std but not the mean.
    rng = np.random.default_rng(3)
    sites = rng.integers(0, 2, size=(60, 12)).astype(float)
    x = np.concatenate([sites, 1 - sites], axis=1)  # (60, 24), two letters per site
    y = sites @ rng.normal(size=12) + 0.05 * rng.normal(size=60)
    lin = GPReadout(n_restarts=1, random_state=0, linear=True).fit(x[:45], y[:45])
    mean, std = lin.predict(x[45:])
    plain = GPReadout(n_restarts=1, random_state=0).fit(x[:45], y[:45]).predict(x[45:])[0]
    assert np.abs(mean - y[45:]).mean() < np.abs(plain - y[45:]).mean()
    assert any("DotProduct" in repr(k) for k in lin.gp_.kernel_.get_params().values())
    again = GPReadout.from_state(lin.state(), x[:45], y[:45])
    m2, s2 = again.predict(x[45:])
    assert again.linear and np.allclose(mean, m2) and np.allclose(std, s2)
    novel = np.c_[x[45:], np.zeros((15, 1))]
    train = np.c_[x[:45], np.zeros((45, 1))]
    wide = GPReadout.from_state(lin.state(), train, y[:45])
    novel[:, -1] = 1.0  # a column constant in training (an unseen residue)
    m3, s3 = wide.predict(novel)
    assert np.allclose(m3, mean, atol=0.05) and (s3 > std).all()
    seen = GPReadout(n_restarts=0, linear=True, varying_only=True).fit(train, y[:45])
    assert seen.widths_ == [24]  # the column constant in training is not read
    assert np.allclose(seen.predict(novel)[0], seen.predict(np.c_[x[45:], np.zeros(15)])[0])


def test_linear_committee_is_fitted_and_named(synthetic):
    from dataclasses import replace

    from core.tasks.property import model_name
    from core.tasks.property_eval import PropertyData, fit_predict

    cfg = replace(TINY, committee=True, committee_kernel="linear+matern")
    assert model_name(cfg) == "triplet_cnn_gp_committee_lin"
    with pytest.raises(ValueError):
        replace(TINY, committee_kernel="cubic")
    seqs, y = synthetic["sequence"].tolist(), synthetic["score"].to_numpy()
    model = PropertyModel(cfg).fit(seqs[:24], y[:24])
    assert all(gp.linear and gp.varying_only for gp in model.committee_.values())
    again = PropertyModel.from_state(cfg, *model.to_state(), profile_rows=seqs[:24])
    assert np.allclose(model.predict(seqs[24:])[0], again.predict(seqs[24:])[0], atol=1e-6)
    data = PropertyData.from_table(pd.DataFrame(synthetic), "score")
    out = fit_predict(data, np.arange(24), np.arange(24, 30),
                      ["triplet_cnn_gp_committee_lin"], config=cfg, n_ensemble=1)
    assert {"onehot_lin_gp", "blosum_lin_gp"} <= set(out)
    pred = out["triplet_cnn_gp_committee_lin"]
    assert pred.mean.shape == pred.std.shape == (6,) and (pred.std > 0).all()


def test_cluster_order_is_a_permutation():
    x = np.r_[np.zeros((4, 2)), np.ones((4, 2)) * 5] + np.arange(8)[:, None] * 0.01
    order, link = cluster_order(x)
    assert sorted(order) == list(range(8)) and link.shape == (7, 4)
    assert set(order[:4]) in ({0, 1, 2, 3}, {4, 5, 6, 7})


@pytest.mark.slow
def test_property_model_contract(synthetic):
    model = PropertyModel(TINY)
    assert model.fit(synthetic["sequence"].tolist(), synthetic["score"].to_numpy()) is model
    learned = [k for k in vars(model) if k not in ("config", "device")]
    assert all(k.endswith("_") for k in learned)
    mean, std = model.predict(synthetic["sequence"].tolist()[:5])
    assert mean.shape == std.shape == (5,) and np.isfinite(mean).all() and (std > 0).all()
    assert model.embed(synthetic["sequence"].tolist()[:5]).shape == (5, 8)
    assert [r["epoch"] for r in model.history_] == list(range(1, len(model.history_) + 1))


@pytest.mark.slow
def test_fit_job_on_a_user_table_without_split(synthetic, workspace):
    from core.jobs import run_inline
    from core.store import RunStore

    synthetic.loc[[2, 9], "score"] = np.nan
    store = RunStore()
    events = []
    run_id = run_inline("property.fit", {"table": synthetic.to_dict("records"), "label": "score",
                                         "config": asdict(TINY)}, store, method="property",
                        on_progress=events.append)
    run = store.get(run_id)
    assert run.status == "done", run.error
    assert run.summary["n_unlabelled"] == 2 and run.summary["n_train"] == 28
    assert run.summary["n_test"] == 0 and run.metrics["triplet_cnn_gp"] == {}
    assert run.summary["model_name"] == "triplet_cnn_gp"
    assert {e.stage for e in events} >= {"train", "gp"}
    arrays = store.load_arrays(run_id)
    assert arrays["ids"].dtype.kind == "U" and arrays["embedding"].shape == (30, 8)
    pred = store.load_table(run_id, "predictions")
    assert pred["predicted"].notna().all() and len(pred) == 30


@pytest.mark.slow
def test_fit_job_absorption_and_reload(workspace):
    shared_data_or_skip("absorption")
    from core.datasets import load
    from core.jobs import run_inline
    from core.store import RunStore
    from core.tasks.property import load_property_model

    df = load("absorption").iloc[::3].reset_index(drop=True)  # 27 rows, both splits
    cfg = PropertyConfig(n_models=1, gp_restarts=0, baselines=True).with_train(epochs=2)
    store = RunStore()
    run_id = run_inline("property.fit", {"table": df, "label": "peak", "config": asdict(cfg),
                                         "dataset": "absorption"}, store, method="property",
                        config=asdict(cfg))
    run = store.get(run_id)
    assert run.status == "done", run.error
    assert run.summary["n_test"] > 0 and len(run.history) >= 1
    assert {"loss", "val_loss", "epoch"} <= set(run.history[0])
    for name in ("triplet_cnn_gp", "onehot_gp", "blosum_gp", "mse_cnn_gp", "ridge_onehot"):
        assert run.metrics[name]["mae"] > 0, name
    assert "coverage_2sd" in run.metrics["triplet_cnn_gp"]
    pred = store.load_table(run_id, "predictions")
    assert list(pred.columns) == ["id", "split", "measured", "predicted", "std", "m", "model"]
    ours = pred[pred["model"] == "triplet_cnn_gp"]
    assert (ours["std"] > 0).all()
    weights = store.load_weights(run_id)
    assert set(weights) == {"encoder"}
    model = load_property_model(store, run_id)
    mean, std = model.predict(df["sequence"].tolist())
    assert np.allclose(mean, ours["predicted"], atol=1e-6)
    assert np.allclose(std, ours["std"], atol=1e-6)
    assert np.allclose(model.embed(df["sequence"].tolist()), store.load_arrays(run_id)["embedding"],
                       atol=1e-6)


@pytest.mark.slow
def test_cli_train_quick(workspace, capsys):
    shared_data_or_skip("absorption")
    from core.__main__ import main

    assert main(["train", "property", "--dataset", "absorption", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "triplet_cnn_gp" in out and "run id:" in out


def test_bench_rows_are_valid():
    from core.bench import check_row
    from core.tasks.property_bench import PAPER, paper_rows

    rows = paper_rows()
    assert len(rows) == 8 and all(check_row(r)["role"] == "paper" for r in rows)
    assert PAPER["triplet_cnn_gp"]["absorption"] == 17.14


def test_unknown_eval_model_is_refused(synthetic):
    from core.tasks.property_eval import PropertyData, fit_predict

    data = PropertyData.from_table(pd.DataFrame(synthetic), "score")
    with pytest.raises(KeyError):
        fit_predict(data, np.arange(20), np.arange(20, 30), ["magic"])


@pytest.mark.slow
def test_ensemble_committee_state_round_trip(synthetic):
    from dataclasses import replace

    import torch

    cfg = replace(TINY, n_models=2, committee=True, readout="embedding+onehot")
    seqs, y = synthetic["sequence"].tolist(), synthetic["score"].to_numpy()
    model = PropertyModel(cfg).fit(seqs[:24], y[:24])
    assert len(model.encoders_) == 2 and set(model.committee_) == {"onehot", "blosum"}
    weights, meta, arrays = model.to_state()
    assert set(weights) == {"encoder", "encoder_2"}
    assert all(isinstance(t, torch.Tensor) for sd in weights.values() for t in sd.values())
    again = PropertyModel.from_state(cfg, weights, meta, arrays, profile_rows=seqs[:24])
    mean, std = model.predict(seqs[24:])
    mean2, std2 = again.predict(seqs[24:])
    assert np.allclose(mean, mean2, atol=1e-6) and np.allclose(std, std2, atol=1e-6)


def test_gp_holdout_tuning_runs_and_keeps_state():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4))
    y = x[:, 0] + 0.1 * rng.normal(size=30)
    hold = np.zeros(30, dtype=bool)
    hold[:8] = True
    gp = GPReadout(n_restarts=0).fit(x, y, holdout=hold)
    mean, std = gp.predict(x[:5])
    assert np.isfinite(mean).all() and (std > 0).all()
    again = GPReadout.from_state(gp.state(), x, y)
    assert np.allclose(again.predict(x[:5])[0], mean)
