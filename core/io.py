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

The code is split by role; import everything public from here:
:mod:`core.io_types` (report types, limits), :mod:`core.io_formats` (parsers),
:mod:`core.io_checks` (record checks, :func:`validate`), :mod:`core.io_writers` (writers).
"""
from __future__ import annotations

import codecs
import logging
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any

from core.alphabet import NONSTANDARD as NONSTANDARD  # importable from here before the split
from core.io_checks import validate
from core.io_formats import _parse_fasta, read_alignment, read_fasta, read_table
from core.io_types import (
    _SEQ_LIKE,
    _SEQ_NAMES,
    ALIGNED_FORMATS,
    DEFAULT_MAX_LENGTH,
    FORMATS,
    MAX_UPLOAD_BYTES,
    NONSTANDARD_POLICIES,
    ParsedTable,
    Problem,
    ValidationError,
    ValidationReport,
    _check_policy,
    _fail,
    _lines,
    _norm_name,
)
from core.io_writers import (
    dataset_fingerprint,
    read_embeddings,
    to_csv_bytes,
    to_fasta_bytes,
    to_npy_bytes,
    to_parquet_bytes,
    write_csv,
    write_embeddings,
    write_fasta,
    write_npy,
    write_parquet,
)
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


# --------------------------------------------------------------------------- format sniffing

_EXT_FORMAT = {".sto": "stockholm", ".stk": "stockholm", ".stockholm": "stockholm",
               ".a2m": "a2m", ".afa": "aligned_fasta", ".afasta": "aligned_fasta",
               ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}


_OTHER = (("CLUSTAL", "a Clustal alignment (convert it to aligned FASTA or Stockholm)"),
          ("LOCUS", "a GenBank record"), ("ID   ", "a UniProt/EMBL flat file"),
          ("HEADER", "a PDB file"), ("@", "FASTQ reads"), ("{", "JSON"), ("<", "XML/HTML"))


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


# --------------------------------------------------------------------------- entry points


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
