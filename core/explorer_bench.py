"""Benchmark of the Embedding Explorer (``python -m core bench explorer``).

Rows (DESIGN.md "Benchmarks"), role ``ours``, split ``all``:

- ``<encoder>/<projection>`` on ``scan10 (1,000)`` and ``scan10+pfam25 (10,000)``: metric
  ``seconds`` (embed + project, wall clock, CPU), with ``embed_seconds`` and
  ``project_seconds`` rows beside it. scan10 has 6,000 sequences, so the 10,000 set is all of
  scan10 plus 4,000 gap-free Pfam sequences of pfam25 (said in the dataset name). Features are
  computed afresh (no cache); UMAP's numba functions are compiled once before timing.
- ``kmer/umap`` on ``scan10 (6,000)``: in a fresh Python process (so nothing is compiled
  yet), the 6,000-point UMAP map is fitted (not timed), then 100 pfam25 sequences are embedded
  with the map's encoder and placed with ``UMAP.transform``: ``place_100_seconds_first_call``
  (numba compiling the transform path included, what a user's first placement costs) and
  ``place_100_seconds`` (the next 100), with ``old_points_max_shift`` (largest coordinate
  change of the mapped points; 0 means none moved).
- ``density_grid`` on ``synthetic (1,000,000)``: ``aggregate_seconds`` (binning every point into
  the page's 300 x 300 overview grid) and ``drill_down_seconds`` (the points of one region).
- ``explorer_map`` on ``synthetic``: ``max_interactive_points`` for the page's map
  (:mod:`core.lasso_map`) and ``max_interactive_points_plotly_lasso`` for plotly's own lasso
  (``st.plotly_chart``), see :mod:`core.lasso_probe`.

Every row carries ``load_1min``, the machine's load average when it was measured.
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
           "metric": metric, "value": float(value), "load_1min": round(os.getloadavg()[0], 2),
           **extra}
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
    """Place ``n_new`` unseen sequences on an ``n_map``-point UMAP map, twice; old points stay.

    Run it in a fresh process (:func:`time_placement_fresh`) for an honest first call.
    """
    from core.datasets import load
    from core.embedding import get_source
    from core.explorer import fit_map
    from core.projection import ProjectionConfig

    base = load("scan10")[["id", "sequence"]].head(n_map)
    new = load("pfam25")[["id", "sequence"]].head(2 * n_new)
    seqs = base["sequence"].tolist()
    enc = get_source(encoder, sequences=seqs)
    fitted = fit_map(enc.embed(seqs), ProjectionConfig(method="umap"))
    before = fitted.coords_.copy()
    times = []
    for part in (new[:n_new], new[n_new:]):
        t0 = time.perf_counter()
        placed = fitted.place(enc.embed(part["sequence"].tolist()))
        times.append(time.perf_counter() - t0)
    shift = float(np.abs(fitted.coords_ - before).max())
    name, model = f"scan10 ({len(base):,})", f"{encoder}/umap"
    return [_row(name, model, "place_100_seconds_first_call", times[0], times[0],
                 n_new=len(placed), note="first placement in a fresh process: includes numba "
                                         "compiling UMAP's transform path"),
            _row(name, model, "place_100_seconds", times[1], times[1], n_new=len(placed)),
            _row(name, model, "old_points_max_shift", shift, n_new=len(placed))]


def time_aggregation(n: int = 1_000_000) -> list[dict]:
    """Server-side overview of ``n`` points: the density grid, then one region's points."""
    from core.explorer import density_grid, in_box

    coords = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    t0 = time.perf_counter()
    grid = density_grid(coords, bins=300)
    grid_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    region = in_box(coords, [0.0, 0.5], [0.0, 0.5])
    drill_s = time.perf_counter() - t0
    name = f"synthetic ({n:,})"
    return [_row(name, "density_grid", "aggregate_seconds", grid_s, grid_s, n=grid.total),
            _row(name, "density_grid", "drill_down_seconds", drill_s, drill_s,
                 n_region=int(region.sum()))]


def time_placement_fresh(n_map: int = 6000) -> list[dict]:
    """:func:`time_placement` in a new Python process (nothing imported or compiled yet)."""
    import subprocess
    import sys

    code = ("import json; from core.explorer_bench import time_placement; "
            f"print('ROWS' + json.dumps(time_placement(n_map={int(n_map)})))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=True)
    line = next(s for s in out.stdout.splitlines() if s.startswith("ROWS"))
    return json.loads(line[4:])


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

    def probe(engine: str, metric: str) -> list[dict]:
        out = max_interactive_points(sizes=(1000, 10000) if quick else None, engine=engine)
        if out is None:
            return []
        return [_row("synthetic", "explorer_map", metric, out["max_interactive_points"],
                     engine=engine, probe=out["trials"], definition=out["definition"])]

    blocks = [(f"maps {small[0]} {e}", lambda e=e: time_maps(*small, e)) for e in encoders]
    blocks.append(("placement (fresh process)",
                   lambda: time_placement_fresh(n_map=1000 if quick else 6000)))
    blocks.append(("aggregation", lambda: time_aggregation(100_000 if quick else 1_000_000)))
    blocks.append(("lasso probe", lambda: probe("lasso_map", "max_interactive_points")))
    blocks.append(("lasso probe, plotly's lasso",
                   lambda: probe("plotly", "max_interactive_points_plotly_lasso")))
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
