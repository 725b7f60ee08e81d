"""Twin mining (seed 003): pairs of proteins with near-identical sequences and different texts.

A pair (i, j) is a twin when

* ``difflib.SequenceMatcher(None, s_i, s_j, autojunk=False).ratio()`` lies in
  [``min_ratio``, ``max_ratio``] (autojunk must be off: with the default heuristic nearly every
  residue of a protein over 200 residues counts as "popular" junk and the ratio collapses), and
* the TF-IDF cosine of their texts (scikit-learn ``TfidfVectorizer()`` defaults, fitted on all
  texts of the table) is below ``max_text_cosine``.

Plain difflib over all N(N-1)/2 pairs is quadratic in pairs *and* in residues. Three cheap
upper bounds cut the work first, none of which can drop a true twin:

1. length ratio: ``ratio <= 2 min(l_i, l_j) / (l_i + l_j)``;
2. the text criterion (exact, a sparse matrix product);
3. RapidFuzz ``fuzz.ratio`` (Indel similarity = 2 LCS / (l_i + l_j)), which bounds difflib's
   ratio from above because difflib's matching blocks form a common subsequence; computed in
   C++ over all pairs with ``score_cutoff`` by ``rapidfuzz.process.cdist`` on all workers.

Only the survivors get the exact difflib ratio, in a process pool. Results are cached per
(sequences, texts, thresholds) under the workspace.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.progress import ProgressCallback, report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwinConfig:
    """The paper's thresholds; ``by`` restricts pairs to one group column (e.g. a cluster id),
    ``None`` compares all pairs (as the shipped ``resfinder_twins.csv`` was built)."""

    min_ratio: float = 0.7
    max_ratio: float = 0.9999
    max_text_cosine: float = 0.5
    by: str | None = None
    workers: int = 2

    def __post_init__(self):
        if not 0 < self.min_ratio <= self.max_ratio <= 1:
            raise ValueError("0 < min_ratio <= max_ratio <= 1 please")
        if not 0 < self.max_text_cosine <= 1:
            raise ValueError("0 < max_text_cosine <= 1 please")


def difflib_ratio(a: str, b: str) -> float:
    """The paper's sequence similarity, with autojunk off."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _ratios(pairs: list[tuple[str, str]]) -> list[float]:
    return [difflib_ratio(a, b) for a, b in pairs]


def text_cosine_matrix(texts: list[str]):
    """TF-IDF (scikit-learn defaults, fitted on ``texts``) cosine, sparse (N, N)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer().fit_transform(texts)  # rows are L2-normalised
    return (x @ x.T).tocsr()


def _candidate_pairs(seqs: list[str], groups: np.ndarray | None, cfg: TwinConfig,
                     text_sim) -> tuple[np.ndarray, dict]:
    """(M, 2) index pairs i < j passing all three upper bounds, and counts per stage."""
    from rapidfuzz import fuzz, process

    lengths = np.array([len(s) for s in seqs])
    n = len(seqs)
    counts = {"pairs_total": 0, "pairs_length_ok": 0, "pairs_rapidfuzz_ok": 0,
              "pairs_text_ok": 0}
    blocks = [np.arange(n)] if groups is None else [np.flatnonzero(groups == g)
                                                   for g in pd.unique(groups)]
    found = []
    for idx in blocks:
        if len(idx) < 2:
            continue
        sub = [seqs[i] for i in idx]
        counts["pairs_total"] += len(idx) * (len(idx) - 1) // 2
        li, lj = lengths[idx][:, None], lengths[idx][None, :]
        length_ok = 2 * np.minimum(li, lj) / (li + lj) >= cfg.min_ratio
        counts["pairs_length_ok"] += int(np.triu(length_ok, 1).sum())
        # fuzz.ratio is 0..100; the cutoff makes rapidfuzz skip work below it (returns 0).
        score = process.cdist(sub, sub, scorer=fuzz.ratio, dtype=np.float32,
                              score_cutoff=100 * cfg.min_ratio - 1e-3, workers=cfg.workers)
        keep = np.triu((score >= 100 * cfg.min_ratio - 1e-3) & length_ok, 1)
        counts["pairs_rapidfuzz_ok"] += int(keep.sum())
        a, b = np.nonzero(keep)
        a, b = idx[a], idx[b]
        text_ok = np.asarray(text_sim[a, b]).ravel() < cfg.max_text_cosine
        counts["pairs_text_ok"] += int(text_ok.sum())
        found.append(np.stack([a[text_ok], b[text_ok]], 1))
    pairs = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
    return pairs.astype(np.int64), counts


def _exact_ratios(seqs: list[str], pairs: np.ndarray, workers: int,
                  on_progress: ProgressCallback | None) -> np.ndarray:
    todo = [(seqs[i], seqs[j]) for i, j in pairs]
    if not todo:
        return np.zeros(0)
    chunk = max(1, min(500, len(todo) // (4 * max(1, workers)) or 1))
    chunks = [todo[k:k + chunk] for k in range(0, len(todo), chunk)]
    out: list[float] = []
    if workers <= 1 or len(chunks) == 1:
        for k, part in enumerate(chunks):
            out += _ratios(part)
            report(on_progress, "twins", k + 1, len(chunks))
        return np.asarray(out)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for k, part in enumerate(pool.map(_ratios, chunks)):
            out += part
            report(on_progress, "twins", k + 1, len(chunks))
    return np.asarray(out)


def _cache_path(table: pd.DataFrame, cfg: TwinConfig, cache_dir: Path) -> Path:
    h = hashlib.sha1(usedforsecurity=False)
    for col in ("id", "sequence", "text") + ((cfg.by,) if cfg.by else ()):
        h.update("\x00".join(table[col].astype(str)).encode())
        h.update(b"\x01")
    key = {k: v for k, v in asdict(cfg).items() if k != "workers"}
    h.update(json.dumps(key, sort_keys=True).encode())
    return cache_dir / f"twins-{h.hexdigest()[:16]}.parquet"


def mine_twins(table: pd.DataFrame, cfg: TwinConfig = TwinConfig(), *,
               cache_dir: str | Path | None = None,
               on_progress: ProgressCallback | None = None) -> tuple[pd.DataFrame, dict]:
    """Twin pairs of a table with ``id``, ``sequence``, ``text`` (and ``cfg.by`` if set).

    Returns
    -------
    pairs : DataFrame id_a, id_b (id_a < id_b), seq_ratio, text_cosine
    info : counts per prefilter stage, ``seconds`` (this call), ``cached``
    """
    t0 = time.perf_counter()
    path = None
    if cache_dir is not None:
        path = _cache_path(table, cfg, Path(cache_dir))
        if path.is_file():
            info = json.loads(path.with_suffix(".json").read_text())
            return pd.read_parquet(path), info | {"cached": True}
    seqs = table["sequence"].astype(str).tolist()
    ids = table["id"].astype(str).to_numpy()
    text_sim = text_cosine_matrix(table["text"].astype(str).tolist())
    groups = table[cfg.by].to_numpy() if cfg.by else None
    pairs, counts = _candidate_pairs(seqs, groups, cfg, text_sim)
    t_pre = time.perf_counter() - t0
    ratios = _exact_ratios(seqs, pairs, cfg.workers, on_progress)
    ok = (ratios >= cfg.min_ratio) & (ratios <= cfg.max_ratio)
    a, b = pairs[ok, 0], pairs[ok, 1]
    swap = ids[a] > ids[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    out = pd.DataFrame({"id_a": ids[a], "id_b": ids[b], "seq_ratio": ratios[ok],
                        "text_cosine": np.asarray(text_sim[a, b]).ravel()})
    out = out.sort_values(["id_a", "id_b"], ignore_index=True)
    info = counts | {"twin_pairs": len(out), "prefilter_seconds": round(t_pre, 3),
                     "seconds": round(time.perf_counter() - t0, 3), "workers": cfg.workers,
                     "cached": False}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        out.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        path.with_suffix(".json").write_text(json.dumps(info))
    log.info("twins: %d pairs in %.1f s (%s)", len(out), info["seconds"], counts)
    return out, info


def plain_difflib_seconds(table: pd.DataFrame, *, sample: int = 300, seed: int = 0) -> dict:
    """Time plain difflib on a random sample of all pairs and extrapolate to every pair
    (running it on all N(N-1)/2 pairs would take hours; the estimate says how many)."""
    seqs = table["sequence"].astype(str).tolist()
    n = len(seqs)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, sample)
    j = (i + rng.integers(1, n, sample)) % n
    t0 = time.perf_counter()
    _ratios([(seqs[a], seqs[b]) for a, b in zip(i, j, strict=True)])
    per_pair = (time.perf_counter() - t0) / sample
    n_pairs = n * (n - 1) // 2
    return {"sample": sample, "seconds_per_pair": per_pair, "pairs": n_pairs,
            "estimated_seconds": per_pair * n_pairs}


def overlap_with(found: pd.DataFrame, reference: pd.DataFrame) -> dict:
    """How many pairs two twin tables share (by id pair)."""
    a = set(zip(found["id_a"], found["id_b"], strict=True))
    b = set(zip(reference["id_a"], reference["id_b"], strict=True))
    return {"found": len(a), "reference": len(b), "shared": len(a & b),
            "only_found": len(a - b), "only_reference": len(b - a)}
