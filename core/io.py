"""Sequence files in and out: one table type for FASTA, alignments and CSV/TSV, with a report.

Every reader returns a :class:`ParsedTable`: a DataFrame plus a :class:`ValidationReport`.
Table columns, in this order:

``id``           str; unique unless the report has a ``duplicate_id`` error.
``sequence``     str, upper case, without gaps.
``aligned``      alignments only, and unaligned input that held gaps: the row as given, upper
                 case, ``'.'`` written as ``'-'``. Pfam-style rows (lower case / ``'.'`` for insert
                 columns) therefore keep every column; the insert/match distinction is dropped.
                 A2M keeps only the match columns (upper case and ``'-'``).
``header``       FASTA: the full header line without ``'>'``.
``description``  FASTA: the header after its first word; Stockholm: ``#=GS <id> DE`` text.
``line``         1-based line where the record starts in the source (for reports).
...              every other CSV/TSV column (numbers stay numbers, empty cells are NaN), and an
                 optional ``parent``.

Reading never cleans silently. Records with problems stay in the table and each problem is in
the report with the record id, the line and the reason; callers decide what to drop
(:mod:`core.intake`). :class:`ValidationError` is raised only when nothing can be read at all.

Problem codes: ``duplicate_id``, ``empty_record``, ``nonstandard``, ``invalid_character``,
``nucleotide``, ``mostly_nucleotide``, ``gaps_removed``, ``too_long``, ``ragged_alignment``,
``missing_id``, ``generated_ids``, ``sequence_column_guessed``, ``no_header``, ``short_row``,
``long_row``, ``renamed_column``, ``text_before_header``, ``no_fasta_headers``,
``malformed_line``, ``missing_stockholm_header``, ``multiple_alignments``, ``encoding``; and,
raised in a :class:`ValidationError`: ``empty_file``, ``too_large``, ``binary``, ``parse_error``,
``unknown_format``, ``no_records``, ``no_sequence_column``, ``missing_column``.

Mutation notation lives in :mod:`core.mutations` and is re-exported here.
"""
from __future__ import annotations

import bisect
import codecs
import csv
import hashlib
import io
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.alphabet import NONSTANDARD
from core.mutations import (
    Mutation,
    apply_mutations,
    check_mutations,
    diff_mutations,
    format_mutations,
    parse_mutations,
)

log = logging.getLogger(__name__)

__all__ = [
    "ALIGNED_FORMATS", "FORMATS", "MAX_UPLOAD_BYTES", "NONSTANDARD_POLICIES", "Mutation",
    "ParsedTable", "Problem", "ValidationError", "ValidationReport", "apply_mutations",
    "check_mutations", "dataset_fingerprint", "decode_bytes", "diff_mutations",
    "format_mutations", "parse_mutations", "read_alignment", "read_embeddings", "read_fasta",
    "read_sequences", "read_table", "sniff_format", "to_csv_bytes", "to_fasta_bytes",
    "to_npy_bytes", "to_parquet_bytes", "validate", "write_csv", "write_embeddings",
    "write_fasta", "write_npy", "write_parquet",
]

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
    if nonstandard not in NONSTANDARD_POLICIES:
        raise ValueError(f"nonstandard must be one of {NONSTANDARD_POLICIES}, got {nonstandard!r}")


# --------------------------------------------------------------------------- bytes -> text

_MAGIC = (
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook; unzip it, or export the sheet as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PAR1", "a Parquet file"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\xfd7zXZ\x00", "an xz archive; decompress it first"),
    (b"BZh91AY&SY", "a bzip2 archive; decompress it first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Word document; export it as CSV"),
)
# C0 control bytes other than tab, newline, vertical tab, form feed, carriage return, plus DEL.
_CONTROL = bytes([*range(0, 9), *range(14, 32), 127])


def _decode(data: bytes, *, source: str, max_bytes: int) -> tuple[str, list[Problem]]:
    if len(data) > max_bytes:
        raise _fail(source, "too_large", f"{len(data):,} bytes is over the limit of "
                    f"{max_bytes:,} bytes; split the file or raise the limit")
    if not data:
        raise _fail(source, "empty_file", "the file is empty")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _fail(source, "binary", f"this is not a text file: it looks like {what}")
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise _fail(source, "encoding", f"starts with a {enc.upper()} byte-order mark but "
                            f"byte offset {exc.start} is not valid {enc.upper()}") from None
            return text, [Problem("warning", "encoding", f"{source} is {enc.upper()}-encoded (byte"
                                  "-order mark); it was decoded, but please save files as UTF-8")]
    sample = data[:65536]
    n_control = sum(sample.count(bytes([b])) for b in _CONTROL)
    if n_control > 0.01 * len(sample) or b"\x00" in data:
        first = min(i for i in (data.find(bytes([b])) for b in _CONTROL) if i >= 0)
        hint = ""
        if data[1:64:2].count(0) > 24 or data[0:64:2].count(0) > 24:
            hint = " (every other byte is zero: UTF-16 without a byte-order mark? save as UTF-8)"
        raise _fail(source, "binary", f"this is not a text file: control byte "
                    f"0x{data[first]:02X} at byte offset {first}{hint}")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        off = exc.start
    line = data.count(b"\n", 0, off) + 1
    col = off - (data.rfind(b"\n", 0, off) + 1) + 1
    try:
        text, enc = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, enc = data.decode("latin-1"), "Latin-1"
    message = (f"{source} is not valid UTF-8: byte 0x{data[off]:02X} at byte offset {off} "
               f"(line {line}, column {col}). It was read as {enc}; check non-ASCII characters "
               "in ids and descriptions, or save the file as UTF-8")
    return text, [Problem("warning", "encoding", message, line=line)]


def decode_bytes(data: bytes, *, source: str, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Bytes of an uploaded file -> text, or :class:`ValidationError` saying why not.

    Checks, in order: size (``too_large``), emptiness (``empty_file``), known binary signatures
    (gzip, ZIP/xlsx, PDF, images, Parquet, .npy; ``binary``), UTF-16/32 byte-order marks (decoded),
    NUL or more than 1 % control bytes (``binary``), then UTF-8 with or without a BOM.

    Text that is not UTF-8 is *accepted with a warning*, decoded as Windows-1252 (Latin-1 for the
    five bytes cp1252 leaves undefined). Why not an error: sequences are ASCII, so a legacy
    encoding can only affect ids and descriptions (typically an accented name exported by Excel
    on Windows), and refusing the whole file over one character would be hostile. Why not
    silent: the warning names the first offending byte, its offset and its line, and
    :func:`read_sequences` puts it in the report (this function only logs it). Any non-ASCII
    character that lands in a sequence is still an ``invalid_character`` error.
    """
    text, problems = _decode(bytes(data), source=source, max_bytes=max_bytes)
    for p in problems:
        log.warning("%s", p.message)
    return text


def _lines(text: str) -> list[str]:
    # Only \n, \r\n and \r end lines, so line numbers match what an editor shows
    # (str.splitlines would also split on \x0b, \x1c, \u2028, ...).
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --------------------------------------------------------------------------- format sniffing

_EXT_FORMAT = {".sto": "stockholm", ".stk": "stockholm", ".stockholm": "stockholm",
               ".a2m": "a2m", ".afa": "aligned_fasta", ".afasta": "aligned_fasta",
               ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}
_SEQ_LIKE = re.compile(r"[A-Za-z*.\-]+")
_SEQ_NAMES = ("sequence", "seq", "protein_sequence", "aa_seq", "aa_sequence", "sequences",
              "amino_acid_sequence", "protein_seq", "prot_seq", "mutated_sequence",
              "mutant_sequence", "target_sequence", "peptide", "protein")
_ID_NAMES = ("id", "seq_id", "sequence_id", "seqid", "name", "sequence_name", "accession",
             "entry", "protein_id", "uniprot_id", "identifier", "mutant", "variant", "header")


_OTHER = (("CLUSTAL", "a Clustal alignment (convert it to aligned FASTA or Stockholm)"),
          ("LOCUS", "a GenBank record"), ("ID   ", "a UniProt/EMBL flat file"),
          ("HEADER", "a PDB file"), ("@", "FASTQ reads"), ("{", "JSON"), ("<", "XML/HTML"))


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _sniff_fasta_kind(text: str, ext: str) -> str:
    if ext == ".a2m":
        return "a2m"
    if len(text) > 2_000_000:  # a sample of whole records is enough to tell the kind
        text = text[: max(text.rfind("\n>", 0, 2_000_000), 1)]
    rows = [r.text for r in _parse_fasta(text)[0]]
    gapped = [r for r in rows if "-" in r or "." in r]
    if ext in (".afa", ".afasta") or (len(rows) > 1 and len(gapped) == len(rows)
                                      and len({len(r) for r in rows}) == 1):
        return "aligned_fasta"
    if not gapped or len(rows) < 2:
        return "fasta"
    has_lower = any(c.islower() for r in rows for c in r)
    match_widths = {sum(c.isupper() or c == "-" for c in r) for r in rows}
    if has_lower and len(match_widths) == 1:
        return "a2m"
    # Mostly one width with a few exceptions: a ragged alignment, reported as such.
    _, n = Counter(len(r) for r in rows).most_common(1)[0]
    return "aligned_fasta" if n > len(rows) / 2 and len(gapped) > len(rows) / 2 else "fasta"


def sniff_format(text: str, *, filename: str | None = None) -> str:
    """Recognise the format of ``text``: one of :data:`FORMATS`.

    Content decides first (``# STOCKHOLM``, ``'>'`` headers, delimiters), the file extension
    breaks ties. FASTA is ``aligned_fasta`` when every record holds gaps at one width (or most
    do: a ragged alignment), ``a2m`` when lower-case inserts leave one match-column width.
    Text with neither headers nor delimiters whose lines all look like sequences is ``fasta``
    (one sequence per line). Raises :class:`ValidationError` (``unknown_format``) otherwise.
    """
    ext = Path(filename).suffix.lower() if filename else ""
    source = filename or "<text>"
    lines = list(islice((s for s in (raw.strip() for raw in _lines(text)) if s), 200))
    if not lines:
        raise _fail(source, "empty_file", "the file holds no text")
    first = lines[0]
    if first.upper().startswith("# STOCKHOLM") or (ext in (".sto", ".stk", ".stockholm")
                                                     and not first.startswith(">")):
        return "stockholm"
    if first.startswith(">") or (first.startswith(";") and any(s[0] == ">" for s in lines)):
        return _sniff_fasta_kind(text, ext)
    tabs, commas, semis = first.count("\t"), first.count(","), first.count(";")
    if tabs and tabs >= commas:
        return "tsv"
    if commas or semis:
        return "csv"
    if ext in (".csv", ".tsv", ".tab"):
        return _EXT_FORMAT[ext]
    head = lines
    if _norm_name(first) in _SEQ_NAMES and all(_SEQ_LIKE.fullmatch(s) for s in head[1:]):
        return "csv"  # one column with a header
    if all(_SEQ_LIKE.fullmatch(s) for s in head):
        return "fasta"
    if len(head) > 1 and all(_SEQ_LIKE.fullmatch(s) for s in head[1:]):
        return "csv"
    looks = next((f" It looks like {what}, which is not supported." for start, what in _OTHER
                  if first.startswith(start)), "")
    raise _fail(source, "unknown_format", f"cannot recognise the format.{looks} Expected FASTA "
                "('>' headers), Stockholm ('# STOCKHOLM 1.0'), A2M/aligned FASTA, or a CSV/TSV "
                f"table with a header row; the first line is {first[:60]!r}")


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


# --------------------------------------------------------------------------- FASTA family

_UNIPROT = re.compile(r"(?:sp|tr)\|([^|\s]+)\|")


def _fasta_id(header: str) -> tuple[str, str]:
    """(id, description): UniProt ``sp|P12345|NAME_HUMAN desc`` -> ``P12345``, else the first
    word; the description is the header after its first word."""
    words = header.split(None, 1)
    if not words:
        return "", ""
    m = _UNIPROT.match(words[0])
    return (m[1] if m else words[0]), (words[1] if len(words) > 1 else "")


_HEADER = re.compile(r"^[^\S\n]*>(.*)$", re.MULTILINE)


def _parse_fasta(text: str) -> tuple[list[_Raw], list[Problem], Counter]:
    # Regex over the whole text rather than a Python loop per line: ~10x faster on big files.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    raws: list[_Raw] = []
    problems: list[Problem] = []
    counts: Counter = Counter()
    headers = list(_HEADER.finditer(text))
    orphans: list[tuple[int, str]] = []
    pre = text[: headers[0].start()] if headers else text
    for ln, line in enumerate(pre.split("\n"), start=1):
        if (s := line.strip()).startswith(";"):  # old-style FASTA comment line
            counts["comment_lines"] += 1
        elif s:
            orphans.append((ln, s))
    line = pre.count("\n") + 1
    for k, m in enumerate(headers):
        end = headers[k + 1].start() if k + 1 < len(headers) else len(text)
        body = text[m.end():end]
        if ";" in body:
            kept = []
            for row in body.split("\n"):
                is_comment = row.lstrip().startswith(";")
                counts["comment_lines"] += is_comment
                kept.append("" if is_comment else row)
            seq = "".join("".join(kept).split())
        else:
            seq = "".join(body.split())
        header = m[1].strip()
        rid, desc = _fasta_id(header)
        raws.append(_Raw(rid, seq, line, extra={"header": header, "description": desc},
                         body=body))
        line += text.count("\n", m.start(), end)
    if orphans and not raws:
        n = len(orphans)
        raws = [_Raw(f"row{k}", "".join(s.split()), ln, extra={"header": "", "description": ""})
                for k, (ln, s) in enumerate(orphans, start=1)]
        problems.append(Problem("warning", "no_fasta_headers", f"no '>' headers: each of the {n} "
                                f"non-blank lines was read as one sequence, named row1..row{n}; "
                                "add '>' headers for records that span lines", None, orphans[0][0]))
    elif orphans:
        a, b = orphans[0][0], orphans[-1][0]
        span = f"line {a}" if a == b else f"lines {a}-{b}"
        problems.append(Problem("error", "text_before_header", f"{span}: text before the first "
                                "'>' header belongs to no record and was not read", None, a))
    return raws, problems, counts


def _read_fasta_like(text: str, *, mode: _Mode, fmt: str, source: str, nonstandard: str,
                     max_length: int | None) -> ParsedTable:
    _check_policy(nonstandard)
    if not text.strip():
        raise _fail(source, "empty_file", "the file holds no text", fmt)
    raws, problems, counts = _parse_fasta(text)
    _fill_ids(raws, problems)
    return _finish(raws, mode=mode, fmt=fmt, source=source, nonstandard=nonstandard,
                   max_length=max_length, problems=problems, counts=counts)


def read_fasta(text: str, *, source: str = "<text>", nonstandard: str = "keep",
               max_length: int | None = DEFAULT_MAX_LENGTH) -> ParsedTable:
    """Read unaligned FASTA text.

    Multi-line records, lower case, blank lines, ``;`` comment lines and any line endings are
    fine; whitespace inside sequence lines is dropped and trailing ``*`` stops are stripped
    (counted as ``trailing_stop``). UniProt headers ``sp|P12345|NAME_HUMAN desc`` give the id
    ``P12345``; otherwise the id is the header's first word. The full header is kept in
    ``header``. Text without any ``'>'`` is read as one sequence per line (with a warning).

    Parameters
    ----------
    text : str
    source : str
        Name used in the report.
    nonstandard : {"keep", "to_x", "reject"}
        What to do with B, Z, J, U, O, X: warn, replace by X (warn), or report an error.
    max_length : int or None
        Longer sequences are ``too_long`` errors.

    Returns
    -------
    ParsedTable
        Columns id, sequence, [aligned], header, description, line.
    """
    return _read_fasta_like(text, mode="unaligned", fmt="fasta", source=source,
                            nonstandard=nonstandard, max_length=max_length)


# --------------------------------------------------------------------------- Stockholm


def _parse_stockholm(text: str) -> tuple[list[_Raw], list[Problem], Counter]:
    raws: list[_Raw] = []
    parts: list[list[str]] = []
    lengths: list[int] = []
    latest: dict[str, int] = {}  # name -> index of its record
    block: set[str] = set()  # names seen in the current block (blank-line separated)
    descriptions: dict[str, str] = {}
    problems: list[Problem] = []
    header_seen, ended = False, False
    more_alignments: list[int] = []
    after_end: list[int] = []
    for ln, line in enumerate(_lines(text), start=1):
        s = line.strip()
        if not s:
            block = set()
            continue
        if s.upper().startswith("# STOCKHOLM"):
            if ended:
                more_alignments.append(ln)
            header_seen = header_seen or not raws
            continue
        if ended:
            if not more_alignments:
                after_end.append(ln)
            continue
        if s == "//":
            ended = True
            continue
        if s.startswith("#=GS"):
            fields = s.split(None, 3)
            if len(fields) == 4 and fields[2] == "DE":
                descriptions[fields[1]] = fields[3]
            continue
        if s.startswith("#"):
            continue
        fields = s.split()
        if len(fields) != 2:
            problems.append(Problem("error", "malformed_line", f"line {ln}: expected '<name> "
                                    f"<aligned sequence>' but found {len(fields)} fields; the "
                                    "line was not read", fields[0], ln))
            continue
        name, chunk = fields
        if name not in latest or name in block:  # a repeat within one block is a duplicate
            latest[name] = len(raws)
            raws.append(_Raw(name, "", ln))
            parts.append([])
            lengths.append(0)
        block.add(name)
        k = latest[name]
        raws[k].spans.append((lengths[k], ln))
        parts[k].append(chunk)
        lengths[k] += len(chunk)
    for raw, chunks in zip(raws, parts, strict=True):
        raw.text = "".join(chunks)
        raw.extra["description"] = descriptions.get(raw.id, "")
    if raws and not header_seen:
        problems.append(Problem("warning", "missing_stockholm_header",
                                "the file does not start with '# STOCKHOLM 1.0'", None, 1))
    if more_alignments:
        problems.append(Problem("warning", "multiple_alignments", f"only the first alignment "
                                f"was read; {len(more_alignments)} more start at line(s) "
                                f"{', '.join(map(str, more_alignments[:5]))}", None,
                                more_alignments[0]))
    elif after_end:
        problems.append(Problem("warning", "text_after_end", f"lines {after_end[0]}-"
                                f"{after_end[-1]} after the '//' terminator were not read",
                                None, after_end[0]))
    return raws, problems, Counter()


def read_alignment(text: str, *, format: str, source: str = "<text>", nonstandard: str = "keep",
                   max_length: int | None = DEFAULT_MAX_LENGTH) -> ParsedTable:
    """Read a multiple sequence alignment: ``"stockholm"``, ``"a2m"`` or ``"aligned_fasta"``.

    Every record gets ``aligned`` (upper case, ``'-'`` gaps) and ``sequence`` (all residues,
    no gaps). Rows of different widths are ``ragged_alignment`` errors naming the record and
    the width the alignment has (the most common one).

    - Stockholm: multi-block files, ``#=GS <id> DE`` descriptions; ``'.'`` and lower case are
      normalised like aligned FASTA; only the first alignment of a multi-alignment file is read.
    - A2M: upper case and ``'-'`` are match columns, lower case and ``'.'`` inserts;
      ``aligned`` keeps the match columns only, ``sequence`` has every residue.
    - aligned FASTA (Pfam style too): every column is kept, ``'.'`` -> ``'-'``, upper-cased,
      so Pfam insert columns stay as columns but lose their lower-case mark.

    The FASTA variants use this module's line-aware FASTA parser and Stockholm a small
    line scanner rather than ``Bio.AlignIO``: Biopython stops at the first ragged row with
    "Sequences have different lengths, or repeated identifier" and reports no line numbers,
    while a report here must name every bad record and its line. The tests check the result
    against ``Bio.AlignIO`` on well-formed files.
    """
    if format not in ALIGNED_FORMATS:
        raise ValidationError(f"{source}: unknown alignment format {format!r}; expected one of "
                              f"{ALIGNED_FORMATS}", code="unknown_format", source=source)
    if format != "stockholm":
        return _read_fasta_like(text, mode="a2m" if format == "a2m" else "aligned", fmt=format,
                                source=source, nonstandard=nonstandard, max_length=max_length)
    _check_policy(nonstandard)
    if not text.strip():
        raise _fail(source, "empty_file", "the file holds no text", format)
    raws, problems, counts = _parse_stockholm(text)
    return _finish(raws, mode="aligned", fmt=format, source=source, nonstandard=nonstandard,
                   max_length=max_length, problems=problems, counts=counts)


# --------------------------------------------------------------------------- CSV / TSV

_NA_STRINGS = {"", "na", "n/a", "nan", "null", "none"}


def _sniff_sep(text: str) -> str:
    head = next((s for s in _lines(text) if s.strip()), "")
    sep, n = max(((c, head.count(c)) for c in (",", "\t", ";", "|")), key=lambda kv: kv[1])
    return sep if n else ","


def _csv_rows(text: str, sep: str, source: str, fmt: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the 1-based line where each starts; cells stripped."""
    if len(text) >= csv.field_size_limit():  # one long sequence must not fail the file
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows, prev = [], 0
    try:
        for fields in reader:
            start, prev = prev + 1, reader.line_num
            if any(f.strip() for f in fields):
                rows.append((start, [f.strip() for f in fields]))
    except csv.Error as exc:
        raise _fail(source, "parse_error", f"cannot read as {fmt.upper()} near line "
                    f"{reader.line_num}: {exc}", fmt) from None
    return rows


def _labels(values: list[str]) -> pd.Series:
    """Typed label column: booleans, numbers (NaN for empty/NA cells) or strings."""
    clean = [None if v.lower() in _NA_STRINGS else v for v in values]
    present = [v for v in clean if v is not None]
    if not present:
        return pd.Series(np.full(len(values), np.nan))
    if all(v.lower() in ("true", "false") for v in present):
        flags = [None if v is None else v.lower() == "true" for v in clean]
        return pd.Series(flags, dtype="boolean" if None in flags else bool)
    try:
        if pd.to_numeric(pd.Series(present, dtype=object), errors="coerce").notna().all():
            return pd.to_numeric(pd.Series(clean, dtype=object), errors="coerce")
    except (ValueError, TypeError, OverflowError):
        pass
    return pd.Series(clean, dtype="str")


def _guess_sequence_column(columns: list[list[str]], skip: set[int]) -> int | None:
    """The column whose values look most like proteins: >= 80 % amino-acid strings, and of
    those the longest median length (at least 10), so words like 'membrane' lose to sequences."""
    best, best_len = None, 0.0
    for i, col in enumerate(columns):
        values = [v for v in col[:1000] if v]
        if i in skip or not values:
            continue
        good = [len(v) for v in values if len(v) >= 5 and _SEQ_LIKE.fullmatch(v)]
        if len(good) >= 0.8 * len(values) and (med := float(np.median(good))) >= 10 \
                and med > best_len:
            best, best_len = i, med
    return best


def _columns(body: list[tuple[int, list[str]]], width: int) -> list[list[str]]:
    """Column-wise cells, short rows padded with '' and long rows cut to ``width``."""
    rows = [f if len(f) == width else (f + [""] * width)[:width] for _, f in body]
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _resolve(wanted: str, names: list[str], source: str, fmt: str, what: str) -> int:
    for candidates in (names, [_norm_name(n) for n in names]):
        if wanted in candidates or _norm_name(wanted) in candidates:
            return candidates.index(wanted if wanted in candidates else _norm_name(wanted))
    raise _fail(source, "missing_column", f"no {what} column {wanted!r}; the columns are "
                f"{', '.join(names)}", fmt)


def read_table(text: str, *, sep: str | None = None, source: str = "<text>",
               sequence_column: str | None = None, id_column: str | None = None,
               nonstandard: str = "keep", max_length: int | None = DEFAULT_MAX_LENGTH
               ) -> ParsedTable:
    """Read a CSV/TSV table of sequences and labels.

    Parameters
    ----------
    text : str
    sep : str, optional
        One-character delimiter; sniffed from the header line when omitted (``,``, tab, ``;``
        or ``|``).
    source : str
        Name used in the report.
    sequence_column, id_column : str, optional
        Column names (case-insensitive). By default the sequence column is found by name
        (sequence, seq, protein_sequence, aa_seq, ...) or else by content (the column of
        longest amino-acid strings; a ``sequence_column_guessed`` warning says which), and the
        id column by name (id, seq_id, name, accession, mutant, ...); without one, rows are
        named ``row<N>`` with a ``generated_ids`` warning.
    nonstandard, max_length
        As in :func:`read_fasta`.

    Returns
    -------
    ParsedTable
        id, sequence, [aligned], line, then every other column in file order: cells stripped,
        all-boolean columns bool, all-numeric ones numeric, empty / NA cells NaN. No row is
        dropped. An input column named ``aligned`` (as :func:`to_csv_bytes` writes it) is
        read as alignment rows (upper case, ``'.'`` -> ``'-'``) unless the sequences hold gaps,
        in which case it is kept as ``aligned_input``. Raises :class:`ValidationError` when no
        column holds sequences.
    """
    _check_policy(nonstandard)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _fail(source, "empty_file", "the file holds no text", "csv")
    sep = sep or _sniff_sep(text)
    if len(sep) != 1:
        raise ValueError(f"sep must be one character, got {sep!r}")
    fmt = "tsv" if sep == "\t" else "csv"
    rows = _csv_rows(text, sep, source, fmt)
    if not rows:
        raise _fail(source, "no_records", "no rows found", fmt)
    problems: list[Problem] = []
    header_line, header = rows[0]
    names: list[str] = []
    for i, name in enumerate(header):
        names.append(_unique_id(name or f"column{i + 1}", set(names)))
    norm = [_norm_name(n) for n in names]
    named_id = {norm.index(n) for n in _ID_NAMES if n in norm}
    if sequence_column is not None:
        seq_idx, guessed = _resolve(sequence_column, names, source, fmt, "sequence"), False
    else:
        seq_idx = next((norm.index(n) for n in _SEQ_NAMES if n in norm), None)
        guessed = seq_idx is None
    width = len(names)
    body = rows[1:]
    columns = _columns(body, width)
    if guessed:
        seq_idx = _guess_sequence_column(columns, named_id)
        # A header cell that is itself a long amino-acid string means the first row is data.
        head_idx = None if named_id else _guess_sequence_column([[h] for h in header], set())
        if head_idx is not None and seq_idx in (None, head_idx):
            names = [f"column{i + 1}" for i in range(width)]
            body, header_line = rows, None
            columns = _columns(body, width)
            seq_idx = _guess_sequence_column(columns, set())
            problems.append(Problem("warning", "no_header", "the first row holds a sequence, so "
                                    "the table was read without a header; columns are named "
                                    "column1..columnN", None, rows[0][0]))
        if seq_idx is None:
            raise _fail(source, "no_sequence_column", "no column holds protein sequences: "
                        "none is named like 'sequence' and none has mostly amino-acid strings "
                        f"of 10+ letters (columns: {', '.join(names)})", fmt)
    if guessed:
        problems.append(Problem("warning", "sequence_column_guessed", f"no column is named like "
                                f"'sequence'; column {names[seq_idx]!r} was taken as the "
                                "sequences because its values look most like proteins", None,
                                header_line))
    if id_column is not None:
        id_idx = _resolve(id_column, names, source, fmt, "id")
    else:
        id_idx = next((norm.index(n) for n in _ID_NAMES if n in norm and
                       norm.index(n) != seq_idx), None) if header_line is not None else None
    raws = [_Raw(fields[id_idx] if id_idx is not None and id_idx < len(fields) else "",
                 columns[seq_idx][k], ln) for k, (ln, fields) in enumerate(body)]
    if id_idx is None:
        problems.append(Problem("warning", "generated_ids", "no id column (looked for "
                                f"{', '.join(_ID_NAMES[:7])}, ...): rows were named row1.."
                                f"row{len(raws)} in file order", None, header_line))
    _fill_ids(raws, problems, what="id column")
    for raw, (ln, fields) in zip(raws, body, strict=True):
        if len(fields) != width:
            more = len(fields) > width
            problems.append(Problem(
                "error" if more else "warning", "long_row" if more else "short_row",
                f"{_where(raw.id, ln, 0)}: {len(fields)} fields but the header has {width}; "
                + (f"the extra fields were not read (an unquoted {sep!r} inside a value?)"
                   if more else "the missing cells were read as empty"), raw.id, ln))
    labels = {names[i]: _labels(columns[i]) for i in range(width) if i not in (seq_idx, id_idx)}
    if "aligned" in labels:  # a table written by this module: keep its alignment rows as such
        labels["aligned"] = pd.Series([v.upper().replace(".", "-") for v in
                                       columns[names.index("aligned")]], dtype="str")
    return _finish(raws, mode="unaligned", fmt=fmt, source=source, nonstandard=nonstandard,
                   max_length=max_length, problems=problems, counts=Counter(), labels=labels)


# --------------------------------------------------------------------------- entry points


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


def _source_text(source: str | Path | bytes, filename: str | None, max_bytes: int
                 ) -> tuple[str, str, list[Problem]]:
    """(text, name for the report, decoding problems) for any accepted ``source``."""
    if isinstance(source, bytes | bytearray | memoryview):
        name = filename or "<bytes>"
        text, problems = _decode(bytes(source), source=name, max_bytes=max_bytes)
        return text, name, problems
    path = source if isinstance(source, Path) else None
    if isinstance(source, str) and "\n" not in source and "\r" not in source \
            and len(source) < 4096 and Path(source).is_file():
        path = Path(source)
    if path is not None:
        name = filename or path.name
        size = path.stat().st_size
        if size > max_bytes:
            raise _fail(name, "too_large", f"{size:,} bytes is over the limit of {max_bytes:,} "
                        "bytes; split the file or raise the limit")
        text, problems = _decode(path.read_bytes(), source=name, max_bytes=max_bytes)
        return text, name, problems
    name = filename or "<text>"
    if len(source) > max_bytes or len(source.encode("utf-8", "surrogatepass")) > max_bytes:
        raise _fail(name, "too_large", f"the text is over the limit of {max_bytes:,} bytes")
    return source, name, []


def read_sequences(source: str | Path | bytes, *, filename: str | None = None,
                   format: str | None = None, nonstandard: str = "keep",
                   max_length: int | None = DEFAULT_MAX_LENGTH,
                   max_bytes: int = MAX_UPLOAD_BYTES) -> ParsedTable:
    """Read any supported sequence file into the one table type, with a validation report.

    Parameters
    ----------
    source : bytes, Path or str
        File content as bytes (an upload), a path, or a str: a path when it is one line naming
        an existing file, otherwise the text itself.
    filename : str, optional
        Name for the report and for format sniffing (extension); defaults to the path's name.
    format : str, optional
        One of :data:`FORMATS`; sniffed when omitted (see :func:`sniff_format`).
    nonstandard : {"keep", "to_x", "reject"}
        Policy for B, Z, J, U, O, X (see :func:`read_fasta`).
    max_length : int or None
        Longest sequence allowed (longer ones are ``too_long`` errors).
    max_bytes : int
        Largest input accepted (``too_large``).

    Returns
    -------
    ParsedTable
        Every parseable record, problems in ``report`` (decoding warnings first).

    Raises
    ------
    ValidationError
        Nothing can be read: too large, empty, binary, unknown format, no records or no
        sequence column. ``FileNotFoundError`` for a missing path.
    """
    _check_policy(nonstandard)
    text, name, problems = _source_text(source, filename, max_bytes)
    if not text.strip():
        raise _fail(name, "empty_file", "the file holds no text (only whitespace)")
    fmt = format or sniff_format(text, filename=filename or name)
    if fmt not in FORMATS:
        raise _fail(name, "unknown_format", f"unknown format {fmt!r}; expected one of {FORMATS}")
    kw: dict[str, Any] = {"source": name, "nonstandard": nonstandard, "max_length": max_length}
    if fmt == "fasta":
        parsed = read_fasta(text, **kw)
    elif fmt in ALIGNED_FORMATS:
        parsed = read_alignment(text, format=fmt, **kw)
    else:
        parsed = read_table(text, sep="\t" if fmt == "tsv" else None, **kw)
    parsed.report.problems[:0] = problems
    return parsed


# --------------------------------------------------------------------------- writers


def _write_bytes(path: str | Path, data: bytes) -> Path:
    """Write atomically (temporary file + rename), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_csv_bytes(df: pd.DataFrame, *, drop: Iterable[str] = ("line",)) -> bytes:
    """UTF-8 CSV without the index. ``line`` (where a record was in its source file) is left
    out by default: it means nothing in the new file."""
    out = df.drop(columns=[c for c in drop if c in df.columns])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_fasta_bytes(df: pd.DataFrame, *, line_width: int | None = 60,
                   header_column: str | None = None,
                   sequence_column: str = "sequence") -> bytes:
    """FASTA with sequences wrapped at ``line_width`` (``None``/0: one line per record).

    Headers come from ``header_column`` when given. Otherwise a ``header`` column is reused
    when it still names the row's id (keeps UniProt headers whole), else the header is the id
    plus ``description`` when there is one.
    """
    lines: list[str] = []
    for k, rec in enumerate(df.to_dict("records")):
        rid = str(rec.get("id", f"row{k + 1}"))
        if header_column is not None:
            header = str(rec[header_column])
        elif isinstance(rec.get("header"), str) and _fasta_id(rec["header"])[0] == rid:
            header = rec["header"]
        else:
            desc = rec.get("description")
            header = f"{rid} {desc}" if isinstance(desc, str) and desc else rid
        seq = "" if pd.isna(rec[sequence_column]) else str(rec[sequence_column])
        lines.append(f">{header}")
        step = line_width or max(len(seq), 1)
        lines.extend(seq[i:i + step] for i in range(0, len(seq), step))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet (pyarrow) without the index; dtypes round-trip through ``pd.read_parquet``."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def to_npy_bytes(array: np.ndarray) -> bytes:
    """``np.save`` bytes of a numeric array (``allow_pickle=False``: object arrays fail)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`to_csv_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_csv_bytes(df, **kwargs))


def write_fasta(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`to_fasta_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_fasta_bytes(df, **kwargs))


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`to_parquet_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_parquet_bytes(df))


def write_npy(array: np.ndarray, path: str | Path) -> Path:
    """Write :func:`to_npy_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_npy_bytes(array))


def _prefix(path_prefix: str | Path) -> Path:
    p = Path(path_prefix)
    return p.with_suffix("") if p.suffix == ".npy" else p


def write_embeddings(path_prefix: str | Path, ids: Sequence[str], array: np.ndarray
                     ) -> tuple[Path, Path]:
    """Save embeddings as ``<prefix>.npy`` (N, D) and their ids as ``<prefix>.ids.csv``.

    Returns the two paths. ``len(ids)`` must equal ``array.shape[0]``.
    """
    arr = np.asarray(array)
    ids = [str(i) for i in ids]
    if arr.ndim < 1 or arr.shape[0] != len(ids):
        raise ValueError(f"{len(ids)} ids for an array of shape {arr.shape}")
    prefix = _prefix(path_prefix)
    npy = write_npy(arr, prefix.parent / f"{prefix.name}.npy")
    ids_csv = _write_bytes(prefix.parent / f"{prefix.name}.ids.csv",
                           to_csv_bytes(pd.DataFrame({"id": ids})))
    return npy, ids_csv


def read_embeddings(path_prefix: str | Path) -> tuple[list[str], np.ndarray]:
    """Inverse of :func:`write_embeddings`: (ids, array of shape (N, D))."""
    prefix = _prefix(path_prefix)
    arr = np.load(prefix.parent / f"{prefix.name}.npy", allow_pickle=False)
    ids = pd.read_csv(prefix.parent / f"{prefix.name}.ids.csv", dtype=str,
                      keep_default_na=False)["id"].tolist()
    return ids, arr


def dataset_fingerprint(df: pd.DataFrame) -> str:
    """MD5 hex digest of the ids and sequences in row order (labels and other columns do not
    count). Stable across runs, platforms and pandas versions."""
    digest = hashlib.md5(usedforsecurity=False)
    for rid, seq in zip(df["id"], df["sequence"], strict=True):
        digest.update(f"{rid}\t{seq}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
