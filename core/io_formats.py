"""Parsers: FASTA, Stockholm / A2M / aligned FASTA, and CSV/TSV tables.

Each reader returns a :class:`~core.io.ParsedTable`; the table columns and the problem codes are
described in :mod:`core.io`, from which these readers are imported.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pandas as pd

from core.io_checks import _fill_ids, _finish, _Raw, _unique_id, _where
from core.io_types import (
    _ID_NAMES,
    _SEQ_LIKE,
    _SEQ_NAMES,
    ALIGNED_FORMATS,
    DEFAULT_MAX_LENGTH,
    ParsedTable,
    Problem,
    ValidationError,
    _check_policy,
    _fail,
    _lines,
    _Mode,
    _norm_name,
)

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
