"""Benchmark of the Embedding Explorer (``python -m core bench explorer``).

Rows (DESIGN.md "Benchmarks"), role ``ours``, split ``all``:

- ``<encoder>/<projection>`` on ``scan10 (1,000)`` and ``scan10+pfam25 (10,000)``: metric
  ``seconds`` (embed + project, wall clock, CPU), with ``embed_seconds`` and
  ``project_seconds`` rows beside it. scan10 has 6,000 sequences, so the 10,000 set is all of
  scan10 plus 4,000 gap-free Pfam sequences of pfam25 (said in the dataset name). Features are
  computed afresh (no cache); UMAP's numba functions are compiled once before timing.
- ``kmer/umap`` on ``scan10 (6,000)``: ``place_100_seconds`` (embed 100 pfam25 sequences with
  the encoder fitted on the map's data, then ``UMAP.transform``) and ``old_points_max_shift``
  (largest coordinate change of the 6,000 mapped points; 0 means none moved), measured after
  umap's numba code is compiled; ``place_100_seconds_first_call`` is the same placement as the
  first one in a fresh process (compilation of the NNDescent transform path included), kept
  from the first run of this benchmark.
- ``explorer_map`` on ``synthetic``: ``max_interactive_points``, see :mod:`core.lasso_probe`.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

ENCODERS = ("kmer", "near", "masked_lm")
PROJECTIONS = ("pca", "tsne", "umap")


def bench_sets(sizes=(1000, 10000), seed: int = 0) -> dict[str, pd.DataFrame]:
    """The benchmark's sequence sets by dataset name (see the module docstring)."""
    from core.datasets import load

    scan10 = load("scan10")[["id", "sequence"]]
    extra = load("pfam25")[["id", "sequence"]]
    out = {}
    for n in sizes:
        if n <= len(scan10):
            out[f"scan10 ({n:,})"] = scan10.sample(n, random_state=seed).reset_index(drop=True)
        else:
            more = extra.sample(n - len(scan10), random_state=seed)
            out[f"scan10+pfam25 ({n:,})"] = pd.concat([scan10, more], ignore_index=True)
    return out


def _row(dataset: str, model: str, metric: str, value: float, seconds: float | None = None,
         **extra) -> dict:
    row = {"dataset": dataset, "model": model, "role": "ours", "split": "all",
           "metric": metric, "value": float(value), **extra}
    if seconds is not None:
        row["seconds"] = float(seconds)
    return row


def _warm_umap() -> None:
    """Import umap and compile its numba functions on toy data (not part of any timing; a
    long-running dashboard pays this once per process)."""
    from core.explorer import fit_map
    from core.projection import ProjectionConfig

    # 5,000 points: above umap's 4,096 it uses NNDescent, whose transform path numba compiles
    # on first use too (over two minutes on the loaded bench machine).
    x = np.random.default_rng(0).normal(size=(5000, 16)).astype(np.float32)
    fit_map(x, ProjectionConfig(method="umap")).place(x[:5])


def time_maps(name: str, table: pd.DataFrame, enc_name: str,
              projections=PROJECTIONS) -> list[dict]:
    """Embed one set with one encoder, then fit every projection; rows of seconds."""
    from core.embedding import get_source
    from core.explorer import fit_map
    from core.projection import ProjectionConfig

    seqs = table["sequence"].astype(str).tolist()
    t0 = time.perf_counter()
    enc = get_source(enc_name, sequences=seqs)
    x = enc.embed(seqs)
    embed_s = time.perf_counter() - t0
    log.info("%s %s embed %.1f s", name, enc_name, embed_s)
    rows = []
    for proj in projections:
        t0 = time.perf_counter()
        fit_map(x, ProjectionConfig(method=proj))
        proj_s = time.perf_counter() - t0
        log.info("%s %s/%s project %.1f s", name, enc_name, proj, proj_s)
        model = f"{enc_name}/{proj}"
        rows += [_row(name, model, "seconds", embed_s + proj_s, embed_s + proj_s, n=len(seqs)),
                 _row(name, model, "embed_seconds", embed_s, embed_s, n=len(seqs)),
                 _row(name, model, "project_seconds", proj_s, proj_s, n=len(seqs))]
    return rows


def time_placement(n_map: int = 6000, n_new: int = 100, encoder: str = "kmer") -> list[dict]:
    """Place ``n_new`` unseen sequences on an ``n_map``-point UMAP map; old points must stay."""
    from core.datasets import load
    from core.embedding import get_source
    from core.explorer import fit_map
    from core.projection import ProjectionConfig

    base = load("scan10")[["id", "sequence"]].head(n_map)
    new = load("pfam25")[["id", "sequence"]].head(n_new)
    seqs = base["sequence"].tolist()
    enc = get_source(encoder, sequences=seqs)
    fitted = fit_map(enc.embed(seqs), ProjectionConfig(method="umap"))
    before = fitted.coords_.copy()
    t0 = time.perf_counter()
    placed = fitted.place(enc.embed(new["sequence"].tolist()))
    seconds = time.perf_counter() - t0
    shift = float(np.abs(fitted.coords_ - before).max())
    name = f"scan10 ({len(base):,})"
    model = f"{encoder}/umap"
    return [_row(name, model, "place_100_seconds", seconds, seconds, n_new=len(placed)),
            _row(name, model, "old_points_max_shift", shift, n_new=len(placed))]


def _checkpoint() -> Path:
    from core.config import Settings

    return Settings.from_env().home / "cache" / "bench" / "explorer_blocks.jsonl"


def _blocks(quick: bool) -> list[tuple[str, Callable[[], list[dict]]]]:
    """Named measurements, cheapest and most wanted first (a budget may cut the tail)."""
    from core.lasso_probe import max_interactive_points

    sizes = (200, 1000) if quick else (1000, 10000)
    sets = bench_sets(sizes)
    encoders = ("kmer",) if quick else ENCODERS
    small, large = list(sets.items())

    def probe() -> list[dict]:
        out = max_interactive_points(sizes=(1000, 10000) if quick else None)
        if out is None:
            return []
        return [_row("synthetic", "explorer_map", "max_interactive_points",
                     out["max_interactive_points"], probe=out["trials"],
                     definition=out["definition"])]

    blocks = [(f"maps {small[0]} {e}", lambda e=e: time_maps(*small, e)) for e in encoders]
    blocks.append(("placement", lambda: time_placement(n_map=1000 if quick else 6000)))
    # kept from an earlier, interrupted run of this benchmark (see the module docstring)
    blocks.append(("placement first call", list))
    blocks.append(("lasso probe", probe))
    blocks += [(f"maps {large[0]} {e}", lambda e=e: time_maps(*large, e)) for e in encoders]
    return blocks


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    """The whole benchmark; ``quick``: k-mer only, 200 and 1,000 points, small lasso probe.

    Each block's rows are appended to a checkpoint under the workspace as soon as they are
    measured, and a rerun with the same ``quick`` reuses them (so a long run can be resumed).
    ``$PROTLENS_BENCH_BUDGET_S`` (seconds) stops starting new blocks once exceeded; blocks not
    run are not written (the log names them).
    """
    budget = float(os.environ.get("PROTLENS_BENCH_BUDGET_S", "inf"))
    path = _checkpoint()
    path.parent.mkdir(parents=True, exist_ok=True)
    done: dict[str, list[dict]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("quick") == quick:
                done[rec["block"]] = rec["rows"]
    _warm_umap()
    t_start, rows = time.perf_counter(), []
    for name, block in _blocks(quick):
        if name in done:
            log.info("block %s: reusing %d measured rows", name, len(done[name]))
            rows += done[name]
            continue
        if time.perf_counter() - t_start > budget:
            log.warning("block %s not run: the %g s budget is spent", name, budget)
            continue
        measured = block()
        with open(path, "a") as fh:
            fh.write(json.dumps({"block": name, "quick": quick, "rows": measured}) + "\n")
        rows += measured
    return rows
