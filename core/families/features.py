"""One-hot features of trimmed alignment rows, padded to a common width.

- residues: (N, W, 21), 20 amino acids + gap; X and padding are all-zero rows;
- secondary structure: (N, W, 4), gap / helix / strand / other (reprof PHEL: H, E, L);
- solvent accessibility: (N, W, 3), gap / exposed / buried (reprof Pbe: e, b).

Per-residue predictions are made on the unaligned sequence and placed on the alignment by
walking the input row (every letter is one residue), then the kept columns are taken.
"""
from __future__ import annotations

import numpy as np

from core.alphabet import AA20, GAP, one_hot

RESIDUES = AA20 + GAP
SS_STATES = "-HEL"
SA_STATES = "-eb"
FEATURES = {"residue": RESIDUES, "ss": SS_STATES, "sa": SA_STATES}


def residue_onehot(aligned: list[str], width: int) -> np.ndarray:
    return one_hot(aligned, alphabet=RESIDUES, length=width)  # (N, W, 21)


def place_on_alignment(aligned_full: str, per_residue: str, cols: np.ndarray) -> str:
    """Put per-residue letters where the row has residues, '-' elsewhere; keep ``cols``."""
    out, k = [], 0
    for ch in aligned_full:
        if ch in "-.":
            out.append("-")
        else:
            out.append(per_residue[k] if k < len(per_residue) else "-")
            k += 1
    row = np.array(out)
    return "".join(row[cols]) if len(cols) else ""


def state_rows(table, predictions, columns: dict[str, np.ndarray], which: int) -> list[str]:
    """SS (``which`` = 0) or SA (1) strings aligned like ``table.aligned``."""
    rows = []
    for full, fam, pred in zip(table["aligned_full"], table["family"], predictions, strict=True):
        cols = columns[fam]
        rows.append(place_on_alignment(full, pred[which] if pred else "", cols))
    return rows


def state_onehot(rows: list[str], states: str, width: int) -> np.ndarray:
    """(N, W, len(states)) one-hot of state strings; padding all-zero."""
    lut = {ch: i for i, ch in enumerate(states)}
    out = np.zeros((len(rows), width, len(states)), dtype=np.float32)
    for i, row in enumerate(rows):
        idx = np.array([lut.get(ch, 0) for ch in row], dtype=np.int64)
        out[i, np.arange(len(idx)), idx] = 1.0
    return out


def padding_mask(aligned: list[str], width: int) -> np.ndarray:
    """(N, W) float32: 1 on a family's own columns, 0 on padding."""
    lengths = np.array([len(a) for a in aligned])
    return (np.arange(width)[None, :] < lengths[:, None]).astype(np.float32)
