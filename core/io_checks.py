"""Per-record checks shared by every reader, and :func:`validate` for tables in memory.

The problem codes are listed in the docstring of :mod:`core.io`; import :func:`validate` from
there.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.alphabet import NONSTANDARD
from core.io_types import (
    DEFAULT_MAX_LENGTH,
    ParsedTable,
    Problem,
    ValidationReport,
    _check_policy,
    _fail,
    _Mode,
)

# --------------------------------------------------------------------------- record checks

_INVALID = re.compile(r"[^A-Za-z.\-]")
_TO_X = str.maketrans({c: "X" for c in NONSTANDARD if c != "X"})
_DROP_NUCLEOTIDES = str.maketrans("", "", "ACGTUN")


@dataclass
class _Raw:
    """A record as parsed: its text as given (whitespace removed) and where it came from.

    Offsets in ``text`` map back to lines through ``spans`` (Stockholm) or, lazily, through
    ``body`` (FASTA: the record's lines after the header, only split again when a problem
    needs a line number).
    """

    id: str
    text: str
    line: int | None
    spans: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, line)
    extra: dict[str, Any] = field(default_factory=dict)
    body: str | None = None


def _at(line: int | None, index: int) -> str:
    return f"line {line}" if line is not None else f"row {index + 1}"


def _where(rid: str, line: int | None, index: int) -> str:
    return f"record {rid!r} ({_at(line, index)})"


def _line_at(raw: _Raw, offset: int) -> int | None:
    if raw.body is not None and raw.line is not None:
        pos = 0
        for k, line in enumerate(raw.body.split("\n")):
            if line.lstrip().startswith(";"):
                continue
            pos += len("".join(line.split()))
            if pos > offset:
                return raw.line + k
        return raw.line
    if not raw.spans:
        return raw.line
    i = bisect.bisect_right([s[0] for s in raw.spans], offset) - 1
    return raw.spans[max(i, 0)][1]


def _ragged(raws: Sequence[_Raw], rows: list[str], groups: Sequence[Any] | None, *,
            what: str) -> list[Problem]:
    """A ``ragged_alignment`` error for each row whose width differs from its alignment's
    (the most common width in its group; ``groups`` = one key per row, or one alignment)."""
    members: dict[Any, list[int]] = {}
    for i, key in enumerate(groups if groups is not None else [None] * len(rows)):
        members.setdefault(key, []).append(i)
    out = []
    for key, idx in members.items():
        widths = Counter(len(rows[i]) for i in idx)
        if len(widths) == 1:
            continue
        width = widths.most_common(1)[0][0]
        ref = next(i for i in idx if len(rows[i]) == width)
        name = "the alignment" if groups is None else f"alignment {key!r}"
        for i in idx:
            if len(rows[i]) != width:
                raw = raws[i]
                out.append(Problem(
                    "error", "ragged_alignment",
                    f"{_where(raw.id, raw.line, i)}: alignment row has {len(rows[i])} {what} but "
                    f"{name} has {width} (like {_where(raws[ref].id, raws[ref].line, ref)})",
                    raw.id, raw.line))
    return out


def _check(raws: Sequence[_Raw], *, mode: _Mode, nonstandard: str, max_length: int | None,
           groups: Sequence[Any] | None = None
           ) -> tuple[list[str], list[str] | None, list[Problem], Counter]:
    """Validate and normalise records: (sequences, aligned rows or None, problems, counts)."""
    problems: list[Problem] = []
    counts: Counter = Counter()
    seqs: list[str] = []
    rows: list[str] = []
    gapped = False
    dna: list[int] = []  # indices of nucleotide-looking records
    for i, raw in enumerate(raws):
        where, text = _where(raw.id, raw.line, i), raw.text
        if mode == "unaligned" and text.endswith("*"):
            counts["trailing_stop"] += 1
            text = text.rstrip("*")
        clean = text.isascii() and (text.isalpha() or text.replace("-", "").replace(".", "")
                                    .isalpha())  # fast path; the regex only for suspects
        bad = [] if clean or not _INVALID.search(text) else list(_INVALID.finditer(text))
        if bad:
            first = bad[0]
            ch, line = first.group(), _line_at(raw, first.start())
            why = ("a stop '*' inside the sequence" if ch == "*" else "a digit" if ch.isdigit()
                   else "whitespace" if ch.isspace() else "not an amino-acid letter or gap")
            more = f"; {len(bad) - 1} more invalid characters" if len(bad) > 1 else ""
            problems.append(Problem("error", "invalid_character",
                                    f"{where}: invalid character {ch!r} ({why}) at position "
                                    f"{first.start() + 1}, line {line}{more}", raw.id, line))
            counts["invalid_characters"] += len(bad)
        upper = text.upper()
        n_gaps = text.count("-") + text.count(".")
        if mode == "a2m":  # match columns are upper case and '-'; inserts lower case and '.'
            row = "".join(c for c in text if c == "-" or "A" <= c <= "Z")
        else:
            row = upper.replace(".", "-")
        seq = upper.replace("-", "").replace(".", "") if n_gaps else upper
        if mode == "unaligned" and n_gaps:
            gapped = True
            counts["gap_characters"] += n_gaps
            problems.append(Problem("warning", "gaps_removed",
                                    f"{where}: {n_gaps} gap character(s) ('-' or '.') in unaligned "
                                    "input were removed from `sequence`; the row as given is "
                                    "kept in `aligned`", raw.id, raw.line))
        if not seq:
            problems.append(Problem("error", "empty_record", f"{where}: no residues"
                                    + (" (only gaps)" if text else ""), raw.id, raw.line))
        found = {c: seq.count(c) for c in NONSTANDARD if c in seq}
        if found:
            for c, n in found.items():
                counts[f"nonstandard_{c}"] += n
            listing = ", ".join(f"{c} x{n}" for c, n in sorted(found.items()))
            pos = min(seq.find(c) for c in found) + 1
            say = f"{where}: non-standard letters {listing} (first at residue {pos})"
            if nonstandard == "reject":
                problems.append(Problem("error", "nonstandard", f"{say}; rejected by policy "
                                        "'reject'", raw.id, raw.line))
            elif nonstandard == "to_x":
                n_rep = sum(n for c, n in found.items() if c != "X")
                counts["replaced_by_x"] += n_rep
                seq, row = seq.translate(_TO_X), row.translate(_TO_X)
                problems.append(Problem("warning", "nonstandard", f"{say}; {n_rep} replaced by X "
                                        "(policy 'to_x')", raw.id, raw.line))
            else:
                problems.append(Problem("warning", "nonstandard", f"{say}; kept (policy 'keep')",
                                        raw.id, raw.line))
        if len(seq) >= 20:
            frac = (len(seq) - len(seq.translate(_DROP_NUCLEOTIDES))) / len(seq)
            if frac > 0.9:
                dna.append(i)
                problems.append(Problem("warning", "nucleotide",
                                        f"{where}: {frac:.0%} of its {len(seq)} letters are A, C, "
                                        "G, T, U or N; it looks like DNA/RNA, not protein",
                                        raw.id, raw.line))
        if max_length is not None and len(seq) > max_length:
            problems.append(Problem("error", "too_long", f"{where}: {len(seq):,} residues, over "
                                    f"the limit of {max_length:,}", raw.id, raw.line))
        seqs.append(seq)
        rows.append(row)
    first_seen: dict[str, int] = {}
    for i, raw in enumerate(raws):
        j = first_seen.setdefault(raw.id, i)
        if j != i:
            problems.append(Problem("error", "duplicate_id", f"duplicate id {raw.id!r} at "
                                    f"{_at(raw.line, i)}; first seen at {_at(raws[j].line, j)}",
                                    raw.id, raw.line))
    if mode != "unaligned":
        problems += _ragged(raws, rows, groups, what="match columns" if mode == "a2m" else
                            "columns")
    n_real = sum(1 for s in seqs if s)
    if dna and len(dna) > n_real / 2:
        first = raws[dna[0]]
        problems.append(Problem("error", "mostly_nucleotide",
                                f"{len(dna)} of {n_real} records look like DNA/RNA (first: "
                                f"{_where(first.id, first.line, dna[0])}); ProtLens reads "
                                "protein sequences - translate them first", None, first.line))
    keep_rows = mode != "unaligned" or gapped
    return seqs, rows if keep_rows else None, problems, counts


def _unique_id(base: str, taken: set[str]) -> str:
    new, k = base, 1
    while new in taken:
        k += 1
        new = f"{base}_{k}"
    taken.add(new)
    return new


def _fill_ids(raws: list[_Raw], problems: list[Problem], *, what: str = "header") -> None:
    """Name records without an id ``row<N>`` (N = record number), with a warning each."""
    taken = {r.id for r in raws}
    for i, raw in enumerate(raws):
        if not raw.id:
            raw.id = _unique_id(f"row{i + 1}", taken)
            problems.append(Problem("warning", "missing_id", f"the record at {_at(raw.line, i)} "
                                    f"has no id in its {what}; it was named {raw.id!r}",
                                    raw.id, raw.line))


def _frame(raws: list[_Raw], seqs: list[str], rows: list[str] | None,
           labels: dict[str, pd.Series], problems: list[Problem]) -> pd.DataFrame:
    data: dict[str, Any] = {"id": [r.id for r in raws], "sequence": seqs}
    if rows is not None:
        data["aligned"] = rows
    for key in ("header", "description"):
        if raws and key in raws[0].extra:
            data[key] = [r.extra.get(key, "") for r in raws]
    data["line"] = pd.array([r.line for r in raws], dtype="int64")
    for name, values in labels.items():
        new = name
        if name in data:  # e.g. a CSV column called 'line' or a second 'id'
            new = _unique_id(f"{name}_input", set(data) | set(labels))
            problems.append(Problem("warning", "renamed_column", f"column {name!r} is a name "
                                    f"the table type reserves; it was kept as {new!r}"))
        data[new] = values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
    return pd.DataFrame(data)


def _problem_order(p: Problem) -> tuple[int, bool]:
    # File-level findings first, then by line; stable, so a record's findings stay together.
    return (-1 if p.line is None else p.line, p.record_id is not None)


def _finish(raws: list[_Raw], *, mode: _Mode, fmt: str, source: str, nonstandard: str,
            max_length: int | None, problems: list[Problem], counts: Counter,
            labels: dict[str, pd.Series] | None = None) -> ParsedTable:
    if not raws:
        raise _fail(source, "no_records", "no sequence records found", fmt)
    seqs, rows, found, more = _check(raws, mode=mode, nonstandard=nonstandard,
                                     max_length=max_length)
    problems = problems + found
    table = _frame(raws, seqs, rows, labels or {}, problems)
    counts.update(more)
    problems.sort(key=_problem_order)
    report = ValidationReport(source=source, format=fmt, n_records=len(table), problems=problems,
                              counts={k: int(v) for k, v in counts.items() if v})
    return ParsedTable(table=table, report=report, format=fmt)


# --------------------------------------------------------------------------- tables in memory


def validate(table: pd.DataFrame, *, aligned: bool = False, nonstandard: str = "keep",
             max_length: int | None = DEFAULT_MAX_LENGTH, source: str = "<table>",
             group_by: str | None = None) -> ValidationReport:
    """Check a table that is already in memory (a built-in data set, a merged upload).

    Runs the same record checks as the readers on ``table["aligned"]`` (``aligned=True``, when
    present) or ``table["sequence"]``, with lines from ``table["line"]`` when present (else
    problems name the 1-based row). ``table`` is not modified; messages describe what the
    readers would return (e.g. "replaced by X" under ``to_x``).

    ``group_by`` names a column when the table holds several alignments (``family_id`` in
    pfam25, ``file`` after merging uploads): row widths are then compared within each group.
    """
    _check_policy(nonstandard)
    missing = [c for c in ("id", "sequence") if c not in table.columns]
    if missing:
        problem = Problem("error", "missing_column", f"{source}: the table has no "
                          f"{' or '.join(map(repr, missing))} column")
        return ValidationReport(source=source, format="table", n_records=len(table),
                                problems=[problem])
    column = "aligned" if aligned and "aligned" in table.columns else "sequence"
    texts = ["" if pd.isna(v) else str(v) for v in table[column]]
    ids = ["" if pd.isna(v) else str(v) for v in table["id"]]
    lines = [None if pd.isna(v) else int(v) for v in table["line"]] if "line" in table.columns \
        else [None] * len(table)
    raws = [_Raw(i, t, ln) for i, t, ln in zip(ids, texts, lines, strict=True)]
    problems: list[Problem] = []
    _fill_ids(raws, problems, what="id column")
    if group_by is not None and group_by not in table.columns:
        raise ValueError(f"group_by column {group_by!r} is not in the table")
    groups = table[group_by].tolist() if group_by is not None else None
    _, _, found, counts = _check(raws, mode="aligned" if aligned else "unaligned",
                                 nonstandard=nonstandard, max_length=max_length, groups=groups)
    problems = sorted(problems + found, key=_problem_order)
    return ValidationReport(source=source, format="table", n_records=len(table),
                            problems=problems, counts={k: int(v) for k, v in counts.items() if v})
