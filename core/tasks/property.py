"""Property models (seed 000): triplet CNN encoder + Gaussian-process read-out on few mutants.

The job ``property.fit`` (:func:`fit_job`) trains a :class:`PropertyModel` on the labelled
training rows of a table, predicts every row with a GP standard deviation, optionally fits the
comparison models, and returns everything a page needs as a :class:`core.jobs.RunResult`.
:func:`load_property_model` rebuilds the trained model from a saved run; :func:`cluster_order`
orders proteins for a cluster map. The command line lives in :mod:`core.tasks.property_cli`.

Tables: ``id``, ``sequence`` (gap-free), one or more numeric label columns, optional ``split``
("train"/"test"), ``parent``, ``m`` (mutation count) and ``aligned`` (equal-width gapped rows).
Rows with a missing label are embedded and predicted but never trained on nor scored.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from core.tasks.label_scale import mutation_counts
from core.tasks.property_cli import add_arguments, cli_train  # noqa: F401 - the CLI contract
from core.tasks.property_config import PropertyConfig, choose_input
from core.tasks.property_model import PropertyModel

log = logging.getLogger(__name__)



def model_name(config: PropertyConfig) -> str:
    """The bench name of the model a config trains (see :mod:`core.tasks.property_eval`)."""
    choices = (config.committee_kernel, config.label_scale, config.merge_columns,
               config.label_trend)
    if config.committee and choices == ("linear+matern", "auto", "auto", "none"):
        return "triplet_cnn_gp_auto"
    if config.committee and choices == ("auto", "auto", "auto", "auto"):
        return "triplet_cnn_gp_auto_wide"
    suffix = {"log": "_log", "auto": "_autoscale"}.get(config.label_scale, "") + \
        {"distance": "_trend", "auto": "_autotrend"}.get(config.label_trend, "")
    if config.committee:
        kernel = {"linear+matern": "_lin", "auto": "_autokernel"}.get(config.committee_kernel, "")
        return "triplet_cnn_gp_committee" + kernel + suffix
    return ("triplet_cnn_gp_ens" if config.n_models > 1 else "triplet_cnn_gp") + suffix


def prepare_table(table: pd.DataFrame | list | dict, label: str | None) -> tuple[pd.DataFrame,
                                                                                str]:
    """Check a property table and add the boolean columns ``_train`` and ``_test``.

    Training rows: ``split == "train"`` with a label (all labelled rows when there is no
    ``split`` column); test rows: ``split == "test"`` with a label. Returns (table, label).
    """
    df = pd.DataFrame(table).reset_index(drop=True).copy()
    for col in ("id", "sequence"):
        if col not in df.columns:
            raise ValueError(f"the table needs an {col!r} column")
    df["id"] = df["id"].astype(str)
    if df["id"].duplicated().any():
        raise ValueError(f"duplicate ids: {df.loc[df['id'].duplicated(), 'id'].head().tolist()}")
    df["sequence"] = df["sequence"].astype(str).str.replace("-", "", regex=False)
    if label is None:
        numeric = [c for c in df.columns if c not in ("m",) and not c.startswith("_")
                   and pd.api.types.is_numeric_dtype(df[c])]
        if not numeric:
            raise ValueError("no numeric label column; name one with label=")
        label = numeric[0]
    if label not in df.columns:
        raise ValueError(f"label column {label!r} is not in the table")
    y = pd.to_numeric(df[label], errors="coerce")
    if y.notna().sum() < 5:
        raise ValueError(f"label {label!r} has fewer than 5 numeric values")
    labelled = y.notna() & np.isfinite(y.fillna(0.0))
    df[label] = y
    if "split" in df.columns:
        split = df["split"].astype("string").str.lower()
        df["_train"] = labelled & (split == "train").fillna(False)
        df["_test"] = labelled & (split == "test").fillna(False)
    else:
        df["_train"], df["_test"] = labelled, False
    if df["_train"].sum() < 5:
        raise ValueError("fewer than 5 labelled training rows")
    return df, label


def _predictions(df: pd.DataFrame, label: str, model: str, mean, std) -> pd.DataFrame:
    split = df["split"] if "split" in df.columns else pd.Series("train", index=df.index)
    return pd.DataFrame({
        "id": df["id"].astype(str), "split": split.astype("string").fillna("none"),
        "measured": df[label].astype(float), "predicted": np.asarray(mean, dtype=float),
        "std": (np.full(len(df), np.nan) if std is None else np.asarray(std, dtype=float)),
        "m": (pd.to_numeric(df["m"], errors="coerce") if "m" in df.columns
              else pd.Series(np.nan, index=df.index)).astype(float),
        "model": model})


def _score(df: pd.DataFrame, label: str, mean, std) -> dict[str, float]:
    from core.metrics import regression_metrics

    test = df["_test"].to_numpy()
    if not test.any():
        return {}
    return regression_metrics(df.loc[test, label].to_numpy(float), np.asarray(mean)[test],
                              None if std is None else np.asarray(std)[test])


def fit_job(payload: dict[str, Any], ctx) -> Any:
    """Job ``property.fit``: train, predict every row, score the test split, keep the model.

    Payload: ``{"table": DataFrame or records, "label": str, "config": asdict(PropertyConfig),
    "dataset": name}``. Returns a RunResult with metrics ``{model: {mae, spearman, r2,
    coverage_1sd, coverage_2sd, ...}}`` on the test rows, the first encoder's history, a
    summary (counts, model table, GP state), weights ``{"encoder": state_dict, ...}``, arrays
    (``ids``, ``embedding``, ``pooled`` for all rows and what rebuilding the GP needs) and the
    long ``predictions`` table (id, split, measured, predicted, std, m, model).
    """
    from core.jobs import RunResult
    from core.progress import report
    from core.tasks.property_eval import BASELINES, PropertyData, fit_predict

    t0 = time.perf_counter()
    cfg = PropertyConfig.from_dict(payload.get("config"))
    df, label = prepare_table(payload["table"], payload.get("label"))
    has_aligned = "aligned" in df.columns and df["aligned"].notna().all()
    cnn_col = choose_input(cfg, has_aligned)
    profile_col = "aligned" if has_aligned else "sequence"
    train = df["_train"].to_numpy()
    n_unlabelled = int(df[label].isna().sum())
    log.info("property fit on %s: %d train, %d test, %d unlabelled rows (CNN reads %s)",
             label, train.sum(), int(df["_test"].sum()), n_unlabelled, cnn_col)

    m = mutation_counts(df)
    model = PropertyModel(cfg, device=ctx.device).fit(
        df.loc[train, cnn_col].tolist(), df.loc[train, label].to_numpy(float),
        aligned=df.loc[train, profile_col].tolist(), on_progress=ctx.on_progress,
        m=None if m is None else m[train], target_m=None if m is None else m[~train])
    t_fit = time.perf_counter() - t0
    mean, std = model.predict(df[cnn_col].tolist(), aligned=df[profile_col].tolist())
    pooled, emb = model.features(df[cnn_col].tolist())[0]
    ours = model_name(cfg)
    metrics = {ours: _score(df, label, mean, std)}
    tables = [_predictions(df, label, ours, mean, std)]
    rows = [{"model": ours, "role": "ours", **metrics[ours], "seconds": round(t_fit, 2)}]

    if cfg.baselines:
        data = PropertyData.from_table(df, label, cnn_col=cnn_col, profile_col=profile_col)
        all_rows = np.arange(len(df))
        for i, name in enumerate(BASELINES):
            pred = fit_predict(data, np.flatnonzero(train), all_rows, [name], config=cfg,
                               seed=cfg.seed, device=ctx.device)[name]
            metrics[name] = _score(df, label, pred.mean, pred.std)
            tables.append(_predictions(df, label, name, pred.mean, pred.std))
            rows.append({"model": name, "role": "baseline", **metrics[name],
                         "seconds": round(pred.seconds, 2)})
            report(ctx.on_progress, "baselines", i + 1, len(BASELINES), message=name)

    weights, meta, model_arrays = model.to_state()
    ids = df["id"].to_numpy(dtype=str)
    arrays = {"ids": ids, "embedding": emb, "pooled": pooled,
              "sequences": df[cnn_col].to_numpy(dtype=str),
              "profile_rows": df[profile_col].to_numpy(dtype=str),
              "labels": df[label].to_numpy(dtype=float),
              "train_mask": train, "test_mask": df["_test"].to_numpy(), **model_arrays}
    best_epoch = min(model.history_, key=lambda r: r.get("val_loss", r["loss"]))["epoch"] \
        if model.history_ else None
    summary = {
        "label": label, "dataset": payload.get("dataset"), "n_train": int(train.sum()),
        "n_test": int(df["_test"].sum()), "n_unlabelled": n_unlabelled, "n_rows": len(df),
        "model_name": ours, "label_scale": model.scale_, "merged_columns": model.merged_,
        "committee_kernel": model.kernel_,
        "trend": None if model.trend_ is None else [float(c) for c in model.trend_],
        "input": cnn_col, "profile_input": profile_col,
        "config": asdict(cfg),
        "model": meta, "gp_kernels": [gp.kernel_summary() for gp in model.readouts_],
        "epochs_run": len(model.history_), "best_epoch": best_epoch, "models": rows,
        "timings": {"fit_s": round(t_fit, 3)},
    }
    if metrics[ours]:
        summary["key_metric"] = {"name": "test MAE", "value": metrics[ours]["mae"]}
    return RunResult(metrics=metrics, history=model.history_, summary=summary, weights=weights,
                     arrays=arrays, tables={"predictions": pd.concat(tables, ignore_index=True)})


def load_property_model(store, run_id: str, *, device=None) -> PropertyModel:
    """Rebuild the trained model of a finished ``property.fit`` run (no training).

    The returned :class:`PropertyModel` has ``.predict(sequences) -> (mean, std)`` and
    ``.embed(sequences) -> (N, D)``; predictions on the run's own rows equal the saved ones.
    A model whose CNN read aligned rows (``summary["input"] == "aligned"``) expects aligned rows.
    """
    run = store.get(run_id)
    if run.status != "done":
        raise ValueError(f"run {run_id} is {run.status}, not done")
    cfg = PropertyConfig.from_dict(run.summary.get("config", run.config))
    arrays = store.load_arrays(run_id)
    train = arrays["train_mask"].astype(bool)
    rows = arrays["profile_rows"][train].tolist() if "profile_rows" in arrays else None
    return PropertyModel.from_state(cfg, store.load_weights(run_id), run.summary["model"],
                                    arrays, profile_rows=rows, device=device)


def cluster_order(embedding: np.ndarray, *, method: str = "average",
                  metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Leaf order and linkage matrix of hierarchical clustering, for a cluster map.

    Parameters
    ----------
    embedding : np.ndarray, shape (N, D)

    Returns
    -------
    order : np.ndarray of int, shape (N,)
        Row order that puts similar proteins next to each other (optimal leaf ordering).
    linkage : np.ndarray, shape (N - 1, 4)
        SciPy linkage matrix (for a dendrogram).
    """
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import pdist

    x = np.asarray(embedding, dtype=np.float64)
    if len(x) < 2:
        return np.arange(len(x)), np.zeros((0, 4))
    dist = pdist(x, metric=metric)
    link = linkage(dist, method=method)
    if len(x) > 2:
        link = optimal_leaf_ordering(link, dist)
    return leaves_list(link), link
