"""Saliency bench (``python -m core bench saliency``).

- ``absorption``: a property run (the default :class:`PropertyConfig`, official training
  split) is trained, saved and reloaded from a run store; for the parent, the least and the
  most absorbent mutant, the per-residue saliency (max-pool importance, integrated gradients
  from padding, gradient x input; target the GP mean) is ranked and the mutated positions'
  mean percentile is tested against random position sets (permutation p-value). The parent is
  tested on every position mutated anywhere in the library (``parent_library``) and on the
  shown mutants' positions (``parent_shown``). The same with the encoder's weights re-drawn
  (role ``baseline``) is the control: a random CNN should not find the mutations.
- ``T50``: a run on T50 is trained the same way; every single mutant of a 466-residue
  protein is scored (GP mean ± σ) and timed (``mutagenesis_seconds``).
"""
from __future__ import annotations

import logging
import tempfile
import time

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

METHODS = {"maxpool_gp": {"method": "maxpool"},
           "ig_padding_gp": {"method": "ig", "baseline": "padding"},
           "gradxinput_gp": {"method": "gradxinput"}}


def _train_run(store, dataset: str, *, epochs: int | None, seed: int) -> str:
    from core.datasets import load
    from core.jobs import run_inline

    table = load(dataset, download=False)
    config = {"seed": seed, **({"train": {"epochs": epochs}} if epochs else {})}
    return run_inline("property.fit", {"table": table, "config": config, "dataset": dataset},
                      store, method="property", name=f"bench {dataset}", config=config,
                      seed=seed)


def _rank_rows(model, table: pd.DataFrame, label: str, role: str, prefix: str,
               n_permutations: int) -> list[dict]:
    from core.saliency import SaliencyConfig, compute_saliency
    from core.saliency_analysis import (
        default_proteins,
        library_columns,
        pick_parent,
        rank_test,
        tracks,
    )

    parent = pick_parent(table)
    ids = default_proteins(table, label)
    names = dict(zip(ids, ["parent", "least", "most"], strict=False))
    library = library_columns(table, parent)
    by_id = table.set_index("id")
    rows = []
    for name, kwargs in METHODS.items():
        t0 = time.perf_counter()
        scores = compute_saliency(model, by_id.loc[ids, "sequence"].tolist(), ids=ids,
                                  config=SaliencyConfig(**kwargs))
        seconds = time.perf_counter() - t0
        long, marks = tracks(table, scores, ids, parent)
        shown = sorted({m.column for ms in marks.values() for m in ms})
        tests = {"parent_library": (parent, library), "parent_shown": (parent, shown)}
        for pid in ids[1:]:
            tests[names[pid]] = (pid, [m.column for m in marks[pid]])
        for what, (pid, cols) in tests.items():
            part = long[long["id"] == pid].sort_values("column")
            res = rank_test(part["absolute"].to_numpy(), np.asarray(cols, dtype=int),
                            n_permutations=n_permutations)
            base = {"dataset": "absorption", "model": f"{prefix}{name}/{what}", "role": role,
                    "split": "all", "seconds": round(seconds, 3), "protein": pid,
                    "n_mutated": res.n_mutated}
            rows.append({**base, "metric": "mutated_rank_pvalue", "value": round(res.p_value, 5)})
            rows.append({**base, "metric": "mutated_rank_percentile",
                         "value": round(res.mean_percentile, 5)})
            log.info("%s %s: percentile %.3f p %.4f", name, what, res.mean_percentile,
                     res.p_value)
    return rows


def bench_absorption(store, *, epochs, seed: int, n_permutations: int) -> list[dict]:
    from core.saliency import randomized_copy
    from core.saliency_analysis import run_proteins
    from core.tasks.property import load_property_model

    run_id = _train_run(store, "absorption", epochs=epochs, seed=seed)
    model = load_property_model(store, run_id)
    table = run_proteins(store, run_id)
    label = store.get(run_id).summary["label"]
    rows = _rank_rows(model, table, label, "ours", "", n_permutations)
    rows += _rank_rows(randomized_copy(model, seed=seed), table, label, "baseline",
                       "random_encoder_", n_permutations)
    return rows


def bench_t50(store, *, epochs, seed: int) -> list[dict]:
    from core.mutagenesis import mutagenesis
    from core.saliency_analysis import run_proteins
    from core.tasks.property import load_property_model

    run_id = _train_run(store, "T50", epochs=epochs, seed=seed)
    model = load_property_model(store, run_id)
    table = run_proteins(store, run_id)
    protein = table[table["sequence"].str.len() == 466].iloc[0]
    aligned = protein["aligned"] if "aligned" in table else None
    mutagenesis(model, protein["sequence"][:20])  # warm-up (first-call allocations)
    _, info = mutagenesis(model, protein["sequence"], aligned=aligned)
    n_models = len(model.encoders_)
    log.info("T50 %s: %d mutants in %.2f s", protein["id"], info["n_variants"], info["seconds"])
    base = {"dataset": "T50", "model": "triplet_cnn_gp_ens" if n_models > 1 else
            "triplet_cnn_gp", "role": "ours", "split": "all", "protein": str(protein["id"]),
            "length": 466, "n_models": n_models}
    return [{**base, "metric": "mutagenesis_seconds", "value": round(info["seconds"], 3),
             "seconds": round(info["seconds"], 3)},
            {**base, "metric": "mutagenesis_variants", "value": info["n_variants"]}]


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    from core.store import RunStore

    epochs = 3 if quick else None
    seed = 0 if seeds is None else int(seeds)
    with tempfile.TemporaryDirectory(prefix="protlens-saliency-bench-") as tmp:
        store = RunStore(tmp)
        rows = bench_absorption(store, epochs=epochs, seed=seed,
                                n_permutations=2000 if quick else 10000)
        rows += bench_t50(store, epochs=epochs, seed=seed)
    return rows
