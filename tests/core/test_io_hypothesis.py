"""Property-based tests of core.io: hostile input never escapes as anything but ValidationError.

Contract under test: every reader, given any bytes or text, either returns a ParsedTable whose
report names a record and a line for every record-level problem, or raises
``core.io.ValidationError``. Plus round trips of valid records through the writers.

The example budget is explicit (``EXAMPLES``, about 2,350 in all).
"""
from __future__ import annotations

import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.alphabet import AA20
from core.io import (
    FORMATS,
    NONSTANDARD_POLICIES,
    ParsedTable,
    ValidationError,
    read_alignment,
    read_fasta,
    read_sequences,
    read_table,
    sniff_format,
    to_csv_bytes,
    to_fasta_bytes,
)

EXAMPLES = {
    "bytes": 500, "fasta": 500, "csv": 450, "stockholm": 350, "sniff": 200,
    "fasta_round_trip": 200, "csv_round_trip": 150,
}
TOTAL_EXAMPLES = sum(EXAMPLES.values())


def budget(name: str) -> settings:
    return settings(max_examples=EXAMPLES[name], deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Problems that name where something went wrong without it being a table row.
_NOT_A_ROW = {"malformed_line"}


def check_contract(call, text: str | None = None) -> ParsedTable | None:
    """Run a reader; ValidationError is fine, any other exception fails the test."""
    try:
        parsed = call()
    except ValidationError as exc:
        assert exc.report.problems and not exc.report.ok
        assert str(exc)
        return None
    assert isinstance(parsed, ParsedTable)
    table, report = parsed.table, parsed.report
    assert {"id", "sequence", "line"} <= set(table.columns)
    assert report.n_records == len(table) > 0
    assert parsed.format in FORMATS and report.format == parsed.format
    ids = set(table["id"])
    n_lines = None if text is None else len(text.replace("\r\n", "\n").replace("\r", "\n")
                                            .split("\n"))
    for p in report.problems:
        assert p.level in ("error", "warning") and p.code and p.message
        if p.record_id is not None:
            assert p.record_id in ids or p.code in _NOT_A_ROW
            assert p.line is not None  # a record-level problem always has its line
        if p.line is not None:
            assert p.line >= 1 and (n_lines is None or p.line <= n_lines)
    for seq in table["sequence"]:
        assert "-" not in seq and "." not in seq
    if "aligned" in table.columns:
        assert all("." not in row for row in table["aligned"])
    # The report survives its own serialisation.
    assert type(report).from_dict(report.to_dict()) == report
    return parsed


# --------------------------------------------------------------------------- strategies

FILENAMES = st.sampled_from([None, "x.fasta", "x.csv", "x.tsv", "x.sto", "x.a2m", "x.afa",
                             "x.txt", "noext"])
POLICIES = st.sampled_from(NONSTANDARD_POLICIES)
EOLS = st.sampled_from(["\n", "\r\n", "\r"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
RESIDUES = st.text(alphabet=AA20 + AA20.lower() + "BZJUOX-.*12 \t", max_size=80)

FASTA_LINE = st.one_of(
    st.builds(lambda pre, body: ">" + pre + body,
              st.sampled_from(["", "sp|", "tr|P1|", " ", ">"]), TEXT),
    RESIDUES, RESIDUES, st.just(""), st.just(";comment"), TEXT,
)
NEAR_FASTA = st.builds(lambda lines, eol: eol.join(lines), st.lists(FASTA_LINE, max_size=30),
                       EOLS)

CELL = st.one_of(
    st.text(alphabet=AA20, max_size=40), st.text(alphabet=AA20 + "-", min_size=5, max_size=40),
    st.sampled_from(["", "NA", "1.5", "-3", "True", "false", '"quoted, cell"', '"open',
                     "nan", "1e999", "  x  "]),
    st.integers().map(str), st.floats().map(str), TEXT,
)
HEADER_CELL = st.one_of(
    st.sampled_from(["id", "name", "sequence", "seq", "Sequence", "aa_seq", "label", "y",
                     "line", "aligned", "description", "", "mutant"]),
    st.text(max_size=8))
NEAR_CSV = st.builds(
    lambda sep, head, rows, eol: eol.join(sep.join(r) for r in [head, *rows]),
    st.sampled_from([",", "\t", ";"]), st.lists(HEADER_CELL, min_size=1, max_size=5),
    st.lists(st.lists(CELL, max_size=6), max_size=15), st.sampled_from(["\n", "\r\n"]))

STO_NAME = st.text(alphabet=string.ascii_letters + string.digits + "/_-.", min_size=1,
                   max_size=12)
STO_ROW = st.text(alphabet=AA20 + "acdefgh-.*1 ", max_size=40)
STO_LINE = st.one_of(
    st.builds(lambda n, r: f"{n} {r}", STO_NAME, STO_ROW),
    st.builds(lambda n, r: f"{n} {r}", st.sampled_from(["s1", "s2", "s3"]),
              st.text(alphabet="MKV-.", min_size=4, max_size=4)),
    st.just(""), st.just("//"), st.just("# STOCKHOLM 1.0"), st.just("#=GC SS_cons ...."),
    st.builds(lambda n, t: f"#=GS {n} DE {t}", STO_NAME, TEXT), TEXT)
NEAR_STOCKHOLM = st.builds(lambda head, lines: "\n".join(([head] if head else []) + lines),
                           st.sampled_from(["# STOCKHOLM 1.0", "", "#STOCKHOLM"]),
                           st.lists(STO_LINE, max_size=25))

IDS = st.text(alphabet=string.ascii_letters + string.digits + "_-.:/", min_size=1, max_size=15)
PROTEIN = st.text(alphabet=AA20, min_size=1, max_size=300)


# --------------------------------------------------------------------------- contract tests


def test_budget_is_at_least_2000_examples():
    assert TOTAL_EXAMPLES >= 2000


@budget("bytes")
@given(data=st.binary(max_size=2000), filename=FILENAMES, policy=POLICIES)
def test_random_bytes(data, filename, policy):
    check_contract(lambda: read_sequences(data, filename=filename, nonstandard=policy,
                                          max_length=500, max_bytes=1500))


@pytest.mark.slow
@budget("fasta")
@given(text=NEAR_FASTA, filename=FILENAMES, policy=POLICIES)
def test_near_fasta(text, filename, policy):
    kw = {"nonstandard": policy, "max_length": 60}
    check_contract(lambda: read_fasta(text, **kw), text)
    check_contract(lambda: read_alignment(text, format="aligned_fasta", **kw), text)
    check_contract(lambda: read_alignment(text, format="a2m", **kw), text)
    check_contract(lambda: read_sequences(text.encode(), filename=filename, **kw), text)


@pytest.mark.slow
@budget("csv")
@given(text=NEAR_CSV, filename=st.sampled_from([None, "x.csv", "x.tsv"]), policy=POLICIES)
def test_near_csv(text, filename, policy):
    check_contract(lambda: read_table(text, nonstandard=policy), text)
    check_contract(lambda: read_table(text, sep="\t"), text)
    check_contract(lambda: read_sequences(text.encode(), filename=filename, nonstandard=policy),
                   text)


@budget("stockholm")
@given(text=NEAR_STOCKHOLM, policy=POLICIES)
def test_near_stockholm(text, policy):
    check_contract(lambda: read_alignment(text, format="stockholm", nonstandard=policy), text)
    check_contract(lambda: read_sequences(text.encode(), filename="x.sto"), text)
    check_contract(lambda: read_sequences(text.encode()), text)


@budget("sniff")
@given(text=st.one_of(NEAR_FASTA, NEAR_CSV, NEAR_STOCKHOLM, TEXT), filename=FILENAMES)
def test_sniff_returns_a_format_or_validation_error(text, filename):
    try:
        assert sniff_format(text, filename=filename) in FORMATS
    except ValidationError as exc:
        assert exc.report.problems[0].code in ("empty_file", "unknown_format")


# --------------------------------------------------------------------------- round trips


@budget("fasta_round_trip")
@given(records=st.lists(st.tuples(IDS, PROTEIN, st.sampled_from(["", "a description"])),
                        min_size=1, max_size=20, unique_by=lambda r: r[0]),
       width=st.sampled_from([None, 1, 7, 60, 80]), eol=st.sampled_from([b"\n", b"\r\n"]))
def test_fasta_round_trip(records, width, eol):
    table = pd.DataFrame(records, columns=["id", "sequence", "description"])
    data = to_fasta_bytes(table, line_width=width).replace(b"\n", eol)
    parsed = read_sequences(data, filename="rt.fasta")
    assert parsed.format == "fasta"
    assert parsed.table["id"].tolist() == table["id"].tolist()
    assert parsed.table["sequence"].tolist() == table["sequence"].tolist()
    assert parsed.table["description"].tolist() == table["description"].tolist()
    bad = {"invalid_character", "duplicate_id", "empty_record", "missing_id", "encoding"}
    assert not [p for p in parsed.report.problems if p.code in bad]


@budget("csv_round_trip")
@given(records=st.lists(st.tuples(IDS, PROTEIN, st.floats(allow_nan=False, allow_infinity=False),
                                  st.integers(-10**9, 10**9)),
                        min_size=1, max_size=20, unique_by=lambda r: r[0]))
def test_csv_round_trip(records):
    table = pd.DataFrame(records, columns=["id", "sequence", "score", "count"])
    parsed = read_sequences(to_csv_bytes(table), filename="rt.csv")
    back = parsed.table.drop(columns="line")
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert back["count"].dtype.kind == "i" and back["score"].dtype.kind == "f"
