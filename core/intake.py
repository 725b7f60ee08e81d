"""From uploaded files to one data set: merge per-file tables, check ids across files.

:mod:`core.io` reads and validates one file; a user may upload several at once (one FASTA per
family, say). This module joins them into one table with a ``file`` column and adds the
problems only visible across files (an id used in two files), so nothing is dropped silently.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from core.io import ParsedTable, Problem, ValidationReport, dataset_fingerprint


def merge_parsed(parsed: dict[str, ParsedTable]) -> ParsedTable:
    """Join per-file results (``{file name: ParsedTable}``) into one.

    A single file comes back unchanged. For several, records keep their file name in ``file``,
    every file's problems are kept with the file named in the message, and an id found in
    more than one file is an error naming both files and lines.
    """
    if not parsed:
        raise ValueError("no files to merge")
    if len(parsed) == 1:
        return next(iter(parsed.values()))
    frames, problems, counts, formats = [], [], {}, set()
    for name, item in parsed.items():
        frame = item.table.copy()
        frame["file"] = name
        frames.append(frame)
        formats.add(item.format)
        problems += [replace(p, message=f"{name}: {p.message}") for p in item.report.problems]
        for key, value in item.report.counts.items():
            counts[key] = counts.get(key, 0) + value
    table = pd.concat(frames, ignore_index=True)
    seen: dict[str, tuple[str, object]] = {}
    for row in table.itertuples():
        where = (row.file, getattr(row, "line", None))
        if row.id in seen and seen[row.id][0] != row.file:
            first_file, first_line = seen[row.id]
            problems.append(Problem(
                "error", "duplicate_id_across_files",
                f"id {row.id!r} appears in {first_file} (line {first_line}) and in "
                f"{row.file} (line {where[1]})", record_id=row.id, line=where[1]))
        seen.setdefault(row.id, where)
    fmt = formats.pop() if len(formats) == 1 else "mixed"
    report = ValidationReport(source=", ".join(parsed), format=fmt, n_records=len(table),
                              problems=problems, counts=counts)
    return ParsedTable(table=table, report=report, format=fmt)


def records_with_errors(report: ValidationReport) -> set[str]:
    """Ids named by an error of the report (the records a user may choose to drop)."""
    return {p.record_id for p in report.errors if p.record_id is not None}


def drop_error_records(parsed: ParsedTable) -> tuple[pd.DataFrame, list[str]]:
    """The table without the records that have errors, and the dropped ids (in order)."""
    bad = records_with_errors(parsed.report)
    mask = parsed.table["id"].isin(bad)
    return parsed.table.loc[~mask].reset_index(drop=True), parsed.table.loc[mask, "id"].tolist()


def fingerprint(table: pd.DataFrame) -> str:
    return dataset_fingerprint(table)
