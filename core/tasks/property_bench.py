"""Benchmark of the property models: ``python -m core bench property`` (DESIGN.md, Benchmarks).

For each built-in set (absorption, enantioselectivity, localization, T50) every model in
:data:`BENCH_MODELS` is trained and scored

- on the official split, once per seed (``mae``, ``spearman``, ``r2``, ``coverage_1sd``,
  ``coverage_2sd``; value = mean over seeds, se = standard error over seeds), plus the paired
  difference of each model's per-protein absolute error from the one-hot GP's
  (``mae_minus_onehot_gp``, se over test proteins: the test-sampling noise that seeds miss);
- by repeated k-fold cross-validation over all labelled rows (``mae``; se over folds) and the
  fold-paired difference from the one-hot GP.

The paper's Table I is added as rows with role ``paper``. ``seconds`` is the wall time of one
fit (training + prediction) on this machine. Settings are fixed in advance (chosen by CV on the
training rows only, see the property docs); nothing is tuned on test rows.

Environment: ``PROTLENS_BENCH_DATASETS=absorption,T50`` runs a subset; every finished data set
is cached under ``$PROTLENS_HOME/bench/property/`` and, with ``PROTLENS_BENCH_RESUME=1``,
reused, so the full record can be assembled over several shorter runs.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from core.papers import PROPERTY_TABLE_I
from core.tasks.property_config import PropertyConfig

log = logging.getLogger(__name__)

DATASETS = ("absorption", "enantioselectivity", "localization", "T50")

#: Table I of the seed paper (MAE on the official test split), by our model names.
PAPER = {model: {ds: row[key] for ds, row in PROPERTY_TABLE_I.items()}
         for model, key in (("triplet_cnn_gp", "triplet"), ("mse_cnn_gp", "non_triplet"))}

BENCH_MODELS = ("triplet_cnn_gp", "triplet_cnn_gp_ens", "onehot_gp", "blosum_gp",
                "onehot_lin_gp", "blosum_lin_gp", "triplet_cnn_gp_committee",
                "triplet_cnn_gp_committee_lin", "triplet_cnn_gp_auto", "mse_cnn_gp",
                "ridge_onehot")
REFERENCE = "onehot_gp"


@dataclass(frozen=True)
class BenchSettings:
    official_seeds: int = 3
    n_ensemble: int = 3
    cv_folds: int = 5
    cv_repeats: int = 2
    epochs: int | None = None  # None: the PropertyConfig default (early stopping decides)


FULL = BenchSettings()
QUICK = BenchSettings(official_seeds=1, n_ensemble=2, cv_folds=3, cv_repeats=1, epochs=3)


def paper_rows() -> list[dict]:
    """Table I of the seed paper as bench rows (role ``paper``: quoted, never measured)."""
    return [{"dataset": ds, "model": model, "role": "paper", "split": "official",
             "metric": "mae", "value": value} for model, sets in PAPER.items()
            for ds, value in sets.items()]


def _config(settings: BenchSettings) -> PropertyConfig:
    cfg = PropertyConfig()
    return cfg.with_train(epochs=settings.epochs) if settings.epochs else cfg


def _role(model: str) -> str:
    from core.tasks.property_eval import MODELS

    return MODELS[model][0]


def _summarise(dataset, model, split, metric, values, seconds, n, se=None) -> dict:
    from core.metrics import mean_se

    mean, se_auto = mean_se(values)
    se = se_auto if se is None else se
    row = {"dataset": dataset, "model": model, "role": _role(model), "split": split,
           "metric": metric, "value": round(mean, 5), "n_seeds": n,
           "seconds": round(float(np.mean(seconds)), 3)}
    if np.isfinite(se):
        row["se"] = round(float(se), 5)
    return row


def bench_dataset(name: str, settings: BenchSettings, *, models=BENCH_MODELS) -> list[dict]:
    """Official-split and cross-validation rows of one data set."""
    import torch

    from core.datasets import get_spec, load
    from core.metrics import mean_se, regression_metrics
    from core.tasks.property import prepare_table
    from core.tasks.property_config import choose_input
    from core.tasks.property_eval import PropertyData, cv_folds, fit_predict

    torch.set_num_threads(1)  # the benchmark machine is shared; timings per single core
    cfg = _config(settings)
    df, label = prepare_table(load(name), get_spec(name).label)
    has_aligned = "aligned" in df.columns
    data = PropertyData.from_table(df, label, cnn_col=choose_input(cfg, has_aligned),
                                   profile_col="aligned" if has_aligned else "sequence")
    train, test = np.flatnonzero(df["_train"]), np.flatnonzero(df["_test"])
    labelled = np.flatnonzero(np.isfinite(data.y))
    rows: list[dict] = []
    log.info("%s: %d train, %d test, %d labelled, %d unlabelled rows", name, len(train),
             len(test), len(labelled), len(df) - len(labelled))

    # --- official split, one fit per seed
    per: dict[str, dict[str, list]] = {m: {} for m in models}
    abs_err: dict[str, list[np.ndarray]] = {m: [] for m in models}
    for s in range(settings.official_seeds):
        seed = 1000 * s
        preds = fit_predict(data, train, test, list(models), config=cfg, seed=seed,
                            n_ensemble=settings.n_ensemble)
        for model in models:
            p = preds[model]
            scores = regression_metrics(data.y[test], p.mean, p.std)
            for metric in ("mae", "spearman", "r2", "coverage_1sd", "coverage_2sd"):
                if metric in scores:
                    per[model].setdefault(metric, []).append(scores[metric])
            per[model].setdefault("seconds", []).append(p.seconds)
            abs_err[model].append(np.abs(p.mean - data.y[test]))
        log.info("%s official seed %d: %s", name, s,
                 {m: round(v["mae"][-1], 3) for m, v in per.items()})
    ref = np.mean(abs_err[REFERENCE], axis=0) if REFERENCE in abs_err else None
    for model, metrics in per.items():
        seconds = metrics.pop("seconds")
        for metric, values in metrics.items():
            rows.append(_summarise(name, model, "official", metric, values, seconds,
                                   settings.official_seeds))
        if ref is not None and model != REFERENCE:
            diff = np.mean(abs_err[model], axis=0) - ref  # per test protein, seeds averaged
            mean, se = mean_se(diff)
            rows.append(_summarise(name, model, "official", f"mae_minus_{REFERENCE}", [mean],
                                   seconds, settings.official_seeds, se=se))

    # --- repeated k-fold CV over every labelled row
    cv: dict[str, dict[str, list]] = {m: {"mae": [], "seconds": []} for m in models}
    for r, f, tr, te in cv_folds(labelled, k=settings.cv_folds, repeats=settings.cv_repeats,
                                 seed=0):
        preds = fit_predict(data, tr, te, list(models), config=cfg, seed=100 * r + f,
                            n_ensemble=settings.n_ensemble)
        for model in models:
            p = preds[model]
            cv[model]["mae"].append(float(np.abs(p.mean - data.y[te]).mean()))
            cv[model]["seconds"].append(p.seconds)
        log.info("%s cv %d/%d: %s", name, r, f, {m: round(v["mae"][-1], 3) for m, v in cv.items()})
    n_folds = settings.cv_folds * settings.cv_repeats
    for model, v in cv.items():
        rows.append(_summarise(name, model, "cv", "mae", v["mae"], v["seconds"], n_folds))
        if model != REFERENCE and REFERENCE in cv:
            diff = np.asarray(v["mae"]) - np.asarray(cv[REFERENCE]["mae"])
            rows.append(_summarise(name, model, "cv", f"mae_minus_{REFERENCE}", diff,
                                   v["seconds"], n_folds))
    return rows


def _cache_dir():
    from core.config import Settings

    path = Settings.from_env().home / "bench" / "property"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cached(path, settings: BenchSettings) -> list[dict] | None:
    """Rows of an earlier run of one data set, if it used the same settings and models."""
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("settings") != asdict(settings) or record.get("models") != list(BENCH_MODELS):
        log.info("%s: cached rows are from other settings or models; recomputing", path.name)
        return None
    return record["rows"]


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    """All benchmark rows (see the module docstring); ``seeds`` overrides the official seeds."""
    settings = QUICK if quick else FULL
    if seeds is not None:
        settings = replace(settings, official_seeds=int(seeds))
    names = [s.strip() for s in os.environ.get("PROTLENS_BENCH_DATASETS", "").split(",")
             if s.strip()] or list(DATASETS)
    resume = os.environ.get("PROTLENS_BENCH_RESUME", "") not in ("", "0") and not quick
    cache = _cache_dir()
    rows = []
    for name in DATASETS:
        path = cache / f"{name}.json"
        cached = _cached(path, settings) if resume else None
        if cached is not None:
            log.info("%s: reusing %s", name, path)
            rows += cached
            continue
        if name not in names:
            continue
        t0 = time.perf_counter()
        found = bench_dataset(name, settings)
        log.info("%s done in %.0f s", name, time.perf_counter() - t0)
        if not quick:
            path.write_text(json.dumps({"settings": asdict(settings),
                                        "models": list(BENCH_MODELS), "rows": found}))
        rows += found
    return rows + [r for r in paper_rows() if r["dataset"] in
                   {row["dataset"] for row in rows} | set(names)]
