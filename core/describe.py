"""Descriptive statistics of a sequence table: lengths, residue composition, label summary."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

STANDARD = "ACDEFGHIKLMNPQRSTVWY"


def lengths(table: pd.DataFrame) -> pd.Series:
    """Sequence lengths (gap-free), indexed like the table."""
    return table["sequence"].fillna("").str.len()


def composition(table: pd.DataFrame) -> pd.DataFrame:
    """Residue frequencies over all sequences: columns residue, count, fraction, standard.

    The 20 standard residues always appear (count 0 if absent); any other letter found is
    listed after them, so non-standard letters are visible rather than hidden.
    """
    counts: Counter[str] = Counter()
    for seq in table["sequence"].fillna(""):
        counts.update(seq)
    letters = list(STANDARD) + sorted(k for k in counts if k not in STANDARD)
    total = max(1, sum(counts.values()))
    return pd.DataFrame({
        "residue": letters,
        "count": [counts.get(a, 0) for a in letters],
        "fraction": [counts.get(a, 0) / total for a in letters],
        "standard": [a in STANDARD for a in letters],
    })


def label_columns(table: pd.DataFrame) -> list[str]:
    """Columns a user may colour or train by: everything but ids, sequences and bookkeeping."""
    skip = {"id", "sequence", "aligned", "aligned_pfam", "header", "description", "line",
            "parent", "file", "merged_ids", "source_id"}
    return [c for c in table.columns if c not in skip]


def numeric_labels(table: pd.DataFrame) -> list[str]:
    """Label columns that are numeric with at least two distinct values (regression targets)."""
    out = []
    for col in label_columns(table):
        values = pd.to_numeric(table[col], errors="coerce")
        if table[col].dtype != bool and values.notna().sum() >= 2 and values.nunique() > 1 \
                and values.notna().mean() > 0.5:
            out.append(col)
    return out


def summary(table: pd.DataFrame) -> dict[str, float | int]:
    """Headline numbers for a data set."""
    n = lengths(table)
    return {"sequences": int(len(table)), "min_length": int(n.min()) if len(n) else 0,
            "median_length": float(np.median(n)) if len(n) else 0.0,
            "max_length": int(n.max()) if len(n) else 0,
            "residues": int(n.sum())}
