"""Parent vs. mutants (seed 000, Fig. 4): pick the proteins, align them, mark the mutations and
ask whether mutated positions are more salient than the rest (a permutation test).

Positions are compared on a common axis: the plain position when all proteins have the same
length, else the columns of their ``aligned`` rows when the table has them, else the plain
position (tracks of different length, left-aligned).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.mutations import Mutation


def pick_parent(table: pd.DataFrame) -> str:
    """The parent's id: the table's ``parent`` column when it names a row, else the protein
    with the fewest mutations (column ``m``), else the first row."""
    ids = table["id"].astype(str)
    if "parent" in table:
        named = table["parent"].dropna().astype(str)
        named = named[named.isin(set(ids))]
        if len(named):
            return named.mode().iloc[0]
    if "m" in table and pd.to_numeric(table["m"], errors="coerce").notna().any():
        return str(ids.iloc[int(pd.to_numeric(table["m"], errors="coerce").fillna(np.inf)
                                .to_numpy().argmin())])
    return str(ids.iloc[0])


def default_proteins(table: pd.DataFrame, label: str) -> list[str]:
    """The paper's choice: the parent, then the mutants with the lowest and highest ``label``."""
    parent = pick_parent(table)
    rest = table[(table["id"].astype(str) != parent)
                 & pd.to_numeric(table[label], errors="coerce").notna()]
    if rest.empty:
        return [parent]
    values = pd.to_numeric(rest[label], errors="coerce")
    least = str(rest["id"].iloc[int(values.to_numpy().argmin())])
    most = str(rest["id"].iloc[int(values.to_numpy().argmax())])
    return list(dict.fromkeys([parent, least, most]))


@dataclass(frozen=True)
class Marked:
    """One column where a protein differs from the parent (``label`` in W122A notation)."""

    column: int  # 0-based column on the common axis
    label: str


def _rows(table: pd.DataFrame, ids: Sequence[str]) -> tuple[list[str], bool]:
    """The rows that put the proteins on one axis, and whether they are alignment rows."""
    sub = table.set_index(table["id"].astype(str)).loc[list(ids)]
    seqs = sub["sequence"].astype(str).tolist()
    if len({len(s) for s in seqs}) == 1:
        return seqs, False
    if "aligned" in sub and sub["aligned"].notna().all():
        return sub["aligned"].astype(str).tolist(), True
    return seqs, False


def mutated_columns(row: str, parent_row: str) -> list[Marked]:
    """Columns where ``row`` differs from ``parent_row``, labelled with the parent's residue
    numbering: substitutions as ``W122A`` (:class:`core.mutations.Mutation`), a gap in the
    mutant as ``W122-`` and a residue where the parent has a gap as ``-122A`` (after 122)."""
    out, position = [], 0
    for col, (a, p) in enumerate(zip(row.upper(), parent_row.upper(), strict=False)):
        gap_a, gap_p = a in "-.", p in "-."
        if not gap_p:
            position += 1
        if a == p or (gap_a and gap_p):
            continue
        if not gap_a and not gap_p:
            try:
                out.append(Marked(col, str(Mutation(position, p, a))))
            except ValueError:  # a letter Mutation does not accept (gap-like symbols)
                out.append(Marked(col, f"{p}{position}{a}"))
        else:
            out.append(Marked(col, f"{p if not gap_p else '-'}{position}{a if not gap_a else '-'}"))
    return out


def library_columns(table: pd.DataFrame, parent: str) -> list[int]:
    """Columns (on the common axis of all rows) mutated in at least one protein of the table."""
    ids = table["id"].astype(str).tolist()
    rows, _ = _rows(table, list(dict.fromkeys([parent, *ids])))
    parent_row = rows[0]
    return sorted({m.column for row in rows[1:] for m in mutated_columns(row, parent_row)})


def tracks(table: pd.DataFrame, scores: pd.DataFrame, ids: Sequence[str], parent: str
           ) -> tuple[pd.DataFrame, dict[str, list[Marked]]]:
    """Put the per-residue scores of ``ids`` on one column axis and mark their mutations.

    Returns
    -------
    long : DataFrame ``id, column`` (0-based), ``position`` (1-based residue number, NaN at a
        gap), ``residue, signed, absolute`` for every protein and column.
    marks : id -> list of :class:`Marked` (empty for the parent itself).
    """
    ids = list(dict.fromkeys([str(i) for i in ids]))
    rows, is_aligned = _rows(table, list(dict.fromkeys([parent, *ids])))
    by_id = dict(zip(list(dict.fromkeys([parent, *ids])), rows, strict=True))
    frames, marks = [], {}
    for pid in ids:
        row = by_id[pid]
        s = scores[scores["id"] == pid].sort_values("position")
        residue_cols = [c for c, ch in enumerate(row) if ch not in "-."] if is_aligned \
            else list(range(len(row)))
        n = min(len(residue_cols), len(s))
        frame = pd.DataFrame({"id": pid, "column": np.arange(len(row)),
                              "position": np.nan, "residue": list(row.upper()),
                              "signed": np.nan, "absolute": np.nan})
        cols = np.asarray(residue_cols[:n], dtype=int)
        frame.loc[cols, "position"] = np.arange(1, n + 1)
        frame.loc[cols, "signed"] = s["signed"].to_numpy()[:n]
        frame.loc[cols, "absolute"] = s["absolute"].to_numpy()[:n]
        frames.append(frame)
        marks[pid] = [] if pid == parent else mutated_columns(row, by_id[parent])
    return pd.concat(frames, ignore_index=True), marks


@dataclass(frozen=True)
class RankTest:
    """Are the mutated positions more salient than the rest of the protein?

    ``mean_percentile``: mean percentile rank (0 = least, 1 = most salient) of the mutated
    positions by absolute saliency; ``p_value``: one-sided permutation p-value (random position
    sets of the same size reaching that mean), with the +1 correction.
    """

    n_positions: int
    n_mutated: int
    mean_percentile: float
    p_value: float
    n_permutations: int


def rank_test(absolute: np.ndarray, mutated: np.ndarray, *, n_permutations: int = 10000,
              seed: int = 0) -> RankTest:
    """Permutation test of the mean saliency percentile of ``mutated`` (bool mask or indices)."""
    from scipy.stats import rankdata

    a = np.asarray(absolute, dtype=float)
    keep = np.isfinite(a)
    mask = np.zeros(len(a), bool)
    mask[np.asarray(mutated)] = True
    a, mask = a[keep], mask[keep]
    k = int(mask.sum())
    if k == 0 or k == len(a):
        return RankTest(len(a), k, float("nan"), float("nan"), 0)
    pct = (rankdata(a) - 1) / max(len(a) - 1, 1)  # ties share their mean rank
    observed = float(pct[mask].mean())
    rng = np.random.default_rng(seed)
    draws = np.argsort(rng.random((n_permutations, len(a))), axis=1)[:, :k]  # sets of size k
    null = pct[draws].mean(axis=1)
    p = (1 + int((null >= observed - 1e-12).sum())) / (n_permutations + 1)
    return RankTest(len(a), k, observed, p, n_permutations)


def rank_summary(long: pd.DataFrame, marks: dict[str, list[Marked]], parent: str, *,
                 n_permutations: int = 10000, seed: int = 0) -> pd.DataFrame:
    """One rank test per protein: each mutant on its own mutated columns, and the parent on
    the union of the shown mutants' columns (where the mutations fall in the parent's map)."""
    union = sorted({m.column for ms in marks.values() for m in ms})
    rows = []
    for pid, part in long.groupby("id", sort=False):
        cols = union if pid == parent else [m.column for m in marks.get(pid, [])]
        part = part.sort_values("column")
        res = rank_test(part["absolute"].to_numpy(), np.asarray(cols, dtype=int),
                        n_permutations=n_permutations, seed=seed)
        rows.append({"id": pid, "positions": "mutated in the mutants shown" if pid == parent
                     else "its own mutations", "n_mutated": res.n_mutated,
                     "mean_percentile": res.mean_percentile, "p_value": res.p_value})
    return pd.DataFrame(rows)


def run_proteins(store, run_id: str) -> pd.DataFrame:
    """The proteins of a finished property run: ``id, sequence`` (what the CNN read),
    ``aligned`` (the profile rows, when they were alignment rows), the label, ``m`` and
    ``parent`` (from the built-in data set the run was trained on, when it has one)."""
    run = store.get(run_id)
    arrays = store.load_arrays(run_id)
    label = run.summary.get("label", "label")
    table = pd.DataFrame({"id": arrays["ids"].astype(str),
                          "sequence": arrays["sequences"].astype(str),
                          label: arrays["labels"].astype(float)})
    if run.summary.get("profile_input") == "aligned" and "profile_rows" in arrays:
        table["aligned"] = arrays["profile_rows"].astype(str)
    preds = store.load_table(run_id, "predictions")
    ours = preds[preds["model"] == run.summary.get("model_name", preds["model"].iloc[0])]
    table = table.merge(ours[["id", "predicted", "std", "m"]].drop_duplicates("id"), on="id",
                        how="left")
    dataset = run.summary.get("dataset")
    if dataset:
        try:
            from core.datasets import get_spec, load

            get_spec(dataset)
            builtin = load(dataset, download=False)
            if "parent" in builtin:
                table = table.merge(builtin[["id", "parent"]].astype({"id": str}), on="id",
                                    how="left")
        except (KeyError, ValueError, FileNotFoundError):
            pass  # an uploaded table: the parent is the protein with the fewest mutations
    return table
