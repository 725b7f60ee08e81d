"""Types, limits and small helpers shared by the ``core.io*`` modules.

Import these from :mod:`core.io` (the public face, whose docstring describes the table type and
lists the problem codes). They live here so that the parsers (:mod:`core.io_formats`), the record
checks (:mod:`core.io_checks`) and :mod:`core.io` itself can share them without an import cycle.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from core.config import check_choice

FORMATS = ("fasta", "aligned_fasta", "a2m", "stockholm", "csv", "tsv")
ALIGNED_FORMATS = ("aligned_fasta", "a2m", "stockholm")
NONSTANDARD_POLICIES = ("keep", "to_x", "reject")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_LENGTH = 5000

_Mode = Literal["unaligned", "aligned", "a2m"]

# --------------------------------------------------------------------------- report types


@dataclass(frozen=True)
class Problem:
    """One finding: ``level`` error/warning, a stable ``code``, a sentence saying why, and
    where (``record_id`` and 1-based ``line``; ``None`` for file-level findings)."""

    level: Literal["error", "warning"]
    code: str
    message: str
    record_id: str | None = None
    line: int | None = None


@dataclass
class ValidationReport:
    """All problems found in one source, plus counts (e.g. ``nonstandard_X``, ``trailing_stop``,
    ``gap_characters``, ``replaced_by_x``; only non-zero counts are listed)."""

    source: str
    format: str
    n_records: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: level, code, record, line (nullable int), message."""
        ps = self.problems
        return pd.DataFrame({
            "level": pd.Series([p.level for p in ps], dtype=object),
            "code": pd.Series([p.code for p in ps], dtype=object),
            "record": pd.Series([p.record_id for p in ps], dtype=object),
            "line": pd.array([p.line for p in ps], dtype="Int64"),
            "message": pd.Series([p.message for p in ps], dtype=object),
        })

    def summary(self) -> str:
        """One line: source, format, record count, errors and warnings by code."""
        text = (f"{self.source} ({self.format}): {self.n_records} records, "
                f"{len(self.errors)} errors, {len(self.warnings)} warnings")
        by_code = Counter((p.level, p.code) for p in self.problems)
        if by_code:
            text += " - " + ", ".join(f"{lvl} {code} x{n}" for (lvl, code), n in by_code.items())
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (see :meth:`from_dict`)."""
        return {"source": self.source, "format": self.format, "n_records": self.n_records,
                "problems": [asdict(p) for p in self.problems], "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(source=str(data["source"]), format=str(data["format"]),
                   n_records=int(data.get("n_records", 0)),
                   problems=[Problem(**p) for p in data.get("problems", [])],
                   counts={str(k): int(v) for k, v in data.get("counts", {}).items()})


class ValidationError(ValueError):
    """The input cannot be read at all (binary, empty, unknown format, ...).

    ``str(exc)`` says why; ``exc.report`` holds the same as a :class:`ValidationReport`.
    """

    def __init__(self, message: str, *, code: str = "unreadable", source: str = "<text>",
                 format: str = "unknown", report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report or ValidationReport(
            source=source, format=format, problems=[Problem("error", code, message)])

    def __reduce__(self):  # keep .report through pickling (multiprocessing, caches)
        return (type(self), (str(self),), {"report": self.report})


@dataclass
class ParsedTable:
    """A read table (see the module docstring for columns), its report and its format."""

    table: pd.DataFrame
    report: ValidationReport
    format: str

    @property
    def ok(self) -> bool:
        return self.report.ok


def _fail(source: str, code: str, message: str, fmt: str = "unknown") -> ValidationError:
    return ValidationError(f"{source}: {message}", code=code, source=source, format=fmt)


def _check_policy(nonstandard: str) -> None:
    check_choice("nonstandard", nonstandard, NONSTANDARD_POLICIES)


def _lines(text: str) -> list[str]:
    # Only \n, \r\n and \r end lines, so line numbers match what an editor shows
    # (str.splitlines would also split on \x0b, \x1c, \u2028, ...).
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --------------------------------------------------------------------------- column names
# (used by both :func:`core.io.sniff_format` and :func:`core.io_formats.read_table`)

_SEQ_LIKE = re.compile(r"[A-Za-z*.\-]+")
_SEQ_NAMES = ("sequence", "seq", "protein_sequence", "aa_seq", "aa_sequence", "sequences",
              "amino_acid_sequence", "protein_seq", "prot_seq", "mutated_sequence",
              "mutant_sequence", "target_sequence", "peptide", "protein")
_ID_NAMES = ("id", "seq_id", "sequence_id", "seqid", "name", "sequence_name", "accession",
             "entry", "protein_id", "uniprot_id", "identifier", "mutant", "variant", "header")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())
