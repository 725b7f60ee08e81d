"""Preprocessing as in the paper (section 2.1), each step reporting what it removed.

Per family: length filter (50-1,200 residues), gap rule 1 (columns with more than 99.5 %
gaps: drop the sequences with a residue there), gap rule 2 (drop columns with more than 75 %
gaps), then families smaller than ``min_family`` are dropped, every family is sampled down to
the same size (class balancing, 500 in the paper) and split 80/10/10 stratified by family.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.alphabet import alignment_codes, gap_mask


@dataclass(frozen=True)
class PreprocessConfig:
    """The paper's values as defaults.

    ``per_family`` = 0 balances to the smallest surviving family (no family is up-sampled).
    """

    min_len: int = 50
    max_len: int = 1200
    seq_gap_column: float = 0.995
    column_gap: float = 0.75
    per_family: int = 500
    min_family: int = 20
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def __post_init__(self):
        if not 0 < self.min_len <= self.max_len:
            raise ValueError("0 < min_len <= max_len please")
        if not (0 < self.column_gap <= 1 and 0 < self.seq_gap_column <= 1):
            raise ValueError("gap fractions must lie in (0, 1]")
        if abs(sum(self.split) - 1) > 1e-6 or min(self.split) < 0:
            raise ValueError("split fractions must be >= 0 and sum to 1")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    """What :func:`prepare` returns: the kept rows with their trimmed alignment and split."""

    # id, family, aligned (trimmed, '-' gaps), sequence, split, aligned_full (input row)
    table: pd.DataFrame
    columns: dict[str, np.ndarray]  # family -> kept column indices of its input alignment
    report: pd.DataFrame  # one row per (step, family): sequences/columns before and removed

    @property
    def families(self) -> list[str]:
        return sorted(self.table["family"].unique())


def _family_steps(rows: pd.DataFrame, cfg: PreprocessConfig):
    """Filters of one family; yields report rows and returns (kept rows, kept columns)."""
    steps = []
    lengths = rows["sequence"].str.len()
    width = len(rows["aligned"].iloc[0])
    keep = (lengths >= cfg.min_len) & (lengths <= cfg.max_len)
    steps.append(("length filter", len(rows), int((~keep).sum()), width, 0))
    rows = rows[keep.to_numpy()]
    if len(rows) == 0:
        return rows, np.arange(0), steps
    gaps = gap_mask(rows["aligned"].tolist())  # (N, W) True = gap
    sparse = gaps.mean(0) > cfg.seq_gap_column
    culprits = (~gaps[:, sparse]).any(1)
    steps.append(("gap rule 1 (>%.1f%% gap columns)" % (100 * cfg.seq_gap_column),
                  len(rows), int(culprits.sum()), width, 0))
    rows, gaps = rows[~culprits], gaps[~culprits]
    cols = np.flatnonzero(gaps.mean(0) <= cfg.column_gap) if len(rows) else np.arange(0)
    steps.append(("gap rule 2 (>%.0f%% gap columns)" % (100 * cfg.column_gap),
                  len(rows), 0, width, width - len(cols)))
    return rows, cols, steps


def trim(aligned: list[str], cols: np.ndarray) -> list[str]:
    """Keep ``cols`` of each row; '.' becomes '-', letters upper case."""
    arr = alignment_codes(aligned)[:, cols]
    return [bytes(r).decode().replace(".", "-").upper() for r in arr]


def prepare(table: pd.DataFrame, *, family_col: str = "family_id",
            cfg: PreprocessConfig = PreprocessConfig(), seed: int = 0) -> Prepared:
    """Apply the paper's preprocessing to aligned rows of several families.

    ``table`` needs ``id``, ``aligned`` (equal width within a family; Pfam '.'/lower case
    allowed) and ``family_col``; ``sequence`` is derived from ``aligned`` when missing.
    """
    df = table.copy()
    if "aligned" not in df.columns:
        raise ValueError("the families pipeline needs aligned rows (an 'aligned' column)")
    if "sequence" not in df.columns:
        df["sequence"] = df["aligned"].str.replace(r"[-.]", "", regex=True).str.upper()
    report, kept, columns = [], [], {}
    for fam, rows in df.groupby(family_col, sort=True):
        widths = rows["aligned"].str.len().unique()
        if len(widths) != 1:
            raise ValueError(f"family {fam!r}: aligned rows differ in width {sorted(widths)[:5]}")
        rows, cols, steps = _family_steps(rows, cfg)
        report += [{"step": s, "family": fam, "sequences_in": n, "sequences_removed": r,
                    "columns_in": w, "columns_removed": c} for s, n, r, w, c in steps]
        if len(rows) == 0:
            continue
        rows = rows.assign(aligned_full=rows["aligned"],
                           aligned=trim(rows["aligned"].tolist(), cols), family=str(fam))
        columns[str(fam)] = cols
        kept.append(rows)
    df = pd.concat(kept) if kept else df.iloc[:0].assign(family=[])
    df, rep = _balance(df, cfg, seed)
    report += rep
    df = _split(df, cfg, seed)
    out = df[["id", "family", "aligned", "sequence", "split", "aligned_full"]]
    out = out.reset_index(drop=True)
    columns = {f: c for f, c in columns.items() if f in set(out["family"])}
    return Prepared(out, columns, pd.DataFrame(report))


def _balance(df: pd.DataFrame, cfg: PreprocessConfig, seed: int):
    counts = df["family"].value_counts()
    small = counts[counts < cfg.min_family]
    report = [{"step": f"family size < {cfg.min_family}", "family": f, "sequences_in": int(n),
               "sequences_removed": int(n), "columns_in": 0, "columns_removed": 0}
              for f, n in small.items()]
    df = df[~df["family"].isin(small.index)]
    if df.empty:
        raise ValueError("no family survived preprocessing; loosen the length or gap filters")
    sizes = df["family"].value_counts()
    target = int(sizes.min()) if cfg.per_family <= 0 else min(cfg.per_family, int(sizes.min()))
    rng = np.random.default_rng(seed)
    parts = []
    for fam, rows in df.groupby("family", sort=True):
        # A prefix of one permutation: a smaller per_family picks a subset of a larger one.
        pick = np.sort(rng.permutation(len(rows))[:target])
        parts.append(rows.iloc[pick])
        report.append({"step": f"balance to {target} per family", "family": fam,
                       "sequences_in": len(rows), "sequences_removed": len(rows) - target,
                       "columns_in": 0, "columns_removed": 0})
    return pd.concat(parts), report


def _split(df: pd.DataFrame, cfg: PreprocessConfig, seed: int) -> pd.DataFrame:
    """80/10/10 per family (stratified), deterministic for a seed."""
    rng = np.random.default_rng(seed + 1)
    split = np.empty(len(df), dtype=object)
    fam = df["family"].to_numpy()
    for f in np.unique(fam):
        idx = rng.permutation(np.flatnonzero(fam == f))
        n_train = int(round(cfg.split[0] * len(idx)))
        n_val = int(round(cfg.split[1] * len(idx)))
        split[idx[:n_train]] = "train"
        split[idx[n_train:n_train + n_val]] = "val"
        split[idx[n_train + n_val:]] = "test"
    return df.assign(split=split)


def summarize(report: pd.DataFrame) -> pd.DataFrame:
    """Totals per step: sequences and columns removed over all families."""
    if report.empty:
        return report
    return (report.groupby("step", sort=False)[["sequences_removed", "columns_removed"]]
            .sum().reset_index())
