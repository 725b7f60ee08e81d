"""Readers, validation and writers of core.io on small fixture files (tests/data/io)."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.io import (
    FORMATS,
    MAX_UPLOAD_BYTES,
    NONSTANDARD_POLICIES,
    ParsedTable,
    Problem,
    ValidationError,
    ValidationReport,
    dataset_fingerprint,
    decode_bytes,
    read_alignment,
    read_embeddings,
    read_fasta,
    read_sequences,
    read_table,
    sniff_format,
    to_csv_bytes,
    to_fasta_bytes,
    to_npy_bytes,
    to_parquet_bytes,
    validate,
    write_csv,
    write_embeddings,
    write_fasta,
    write_npy,
    write_parquet,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "io"


def read(name: str, **kw) -> ParsedTable:
    return read_sequences(DATA / name, **kw)


def problems(parsed: ParsedTable | ValidationReport, code: str) -> list[Problem]:
    report = parsed.report if isinstance(parsed, ParsedTable) else parsed
    return [p for p in report.problems if p.code == code]


def only(parsed: ParsedTable | ValidationReport, code: str) -> Problem:
    found = problems(parsed, code)
    assert len(found) == 1, found
    return found[0]


def raises(code: str, source, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        read_sequences(source, **kw)
    assert info.value.report.problems[0].code == code
    assert not info.value.report.ok
    return info.value


# --------------------------------------------------------------------------- API surface


def test_constants():
    assert NONSTANDARD_POLICIES == ("keep", "to_x", "reject")
    assert MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    assert set(FORMATS) == {"fasta", "aligned_fasta", "a2m", "stockholm", "csv", "tsv"}
    assert issubclass(ValidationError, ValueError)


def test_bad_policy_is_a_value_error():
    with pytest.raises(ValueError, match="nonstandard"):
        read_fasta(">a\nMK\n", nonstandard="drop")


# --------------------------------------------------------------------------- bytes and encodings


def test_binary_file():
    exc = raises("binary", DATA / "binary.bin")
    assert "byte offset 0" in str(exc) and "binary.bin" in str(exc)


@pytest.mark.parametrize("data, what", [
    (b"\x1f\x8b\x08\x00rest", "gzip"),
    (b"PK\x03\x04rest", "Excel"),
    (b"%PDF-1.7\n", "PDF"),
    (b">a\nMKV\x00L\n", "0x00"),
    (b">\x00a\x00\n\x00M\x00K\x00" * 8, "UTF-16"),
])
def test_binary_signatures(data, what):
    assert what in str(raises("binary", data, filename="up.fasta"))


def test_latin1_is_read_with_a_warning_naming_the_byte():
    parsed = read("latin1.fasta")
    assert parsed.table["description"].tolist() == ["protéine de test", "Müller"]
    warning = only(parsed, "encoding")
    assert warning.level == "warning" and warning.line == 1
    assert "0xE9" in warning.message and "byte offset 10" in warning.message
    assert parsed.report.ok


def test_decode_bytes(caplog):
    assert decode_bytes(b"\xef\xbb\xbf>a\nMK\n", source="x") == ">a\nMK\n"
    with caplog.at_level(logging.WARNING, logger="core.io"):
        assert decode_bytes((DATA / "latin1.fasta").read_bytes(), source="l1").startswith(">lat1")
    assert "not valid UTF-8" in caplog.text
    with pytest.raises(ValidationError, match="over the limit"):
        decode_bytes(b"12345", source="x", max_bytes=4)
    with pytest.raises(ValidationError, match="empty"):
        decode_bytes(b"", source="x")


def test_utf8_bom():
    parsed = read("bom.fasta")
    assert parsed.table["id"].tolist() == ["bom1", "bom2"]
    assert not parsed.report.problems


def test_utf16_with_bom_is_read_with_a_warning():
    data = (DATA / "bom.fasta").read_bytes()[3:].decode().encode("utf-16")
    parsed = read_sequences(data, filename="u16.fasta")
    assert parsed.table["id"].tolist() == ["bom1", "bom2"]
    assert only(parsed, "encoding").level == "warning"


def test_crlf_and_cr_line_endings_read_like_lf():
    text = (DATA / "good.fasta").read_text()
    expected = read_fasta(text).table
    for ending in ("\r\n", "\r"):
        got = read_sequences(text.replace("\n", ending).encode(), filename="crlf.fasta").table
        pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t"])
def test_empty_input(data):
    raises("empty_file", data)


def test_size_limit(tmp_path):
    raises("too_large", b">a\nMKV\n", max_bytes=4)
    path = tmp_path / "big.fasta"
    path.write_text(">a\nMKVL\n")
    raises("too_large", path, max_bytes=4)
    raises("too_large", ">a\nMKVL\n", max_bytes=4)


def test_missing_path():
    with pytest.raises(FileNotFoundError):
        read_sequences(DATA / "nope.fasta")


def test_str_source_is_text_or_path():
    assert read_sequences(str(DATA / "good.fasta")).report.source == "good.fasta"
    parsed = read_sequences(">x\nMKV\n")
    assert parsed.report.source == "<text>" and parsed.table["id"].tolist() == ["x"]


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize("name, fmt", [
    ("good.fasta", "fasta"), ("malformed.fasta", "fasta"), ("table.csv", "csv"),
    ("table.tsv", "tsv"), ("alignment.sto", "stockholm"), ("example.a2m", "a2m"),
    ("pfam_aligned.fasta", "aligned_fasta"), ("ragged.fasta", "aligned_fasta"),
])
def test_sniff_fixtures(name, fmt):
    text = (DATA / name).read_text()
    assert sniff_format(text, filename=name) == fmt
    assert read(name).format == fmt


@pytest.mark.parametrize("text, filename, fmt", [
    (">q\nMKV-LAAG\n>h\nMKVaa-LAAG\n>h2\nMK.V-LA.AG\n", None, "a2m"),  # by content
    (">a\nMKV\n", "x.a2m", "a2m"),
    (">a\nMKV\n", "x.afa", "aligned_fasta"),
    ("seq1 MKV\n", "x.sto", "stockholm"),
    ("id;sequence\na;MKV\n", None, "csv"),
    ("sequence\nMKVLL\nAGGT\n", None, "csv"),
    ("MKVLLAG\nWWKLLLA\n", None, "fasta"),
    ("a\tb\n1\t2\n", "x.csv", "tsv"),  # content beats the extension
    (">a\nMK-V\n>b\nMKLLLV\n", None, "fasta"),  # gaps but not an alignment
    ("\n\n>a\nMKV\n", None, "fasta"),
])
def test_sniff_cases(text, filename, fmt):
    assert sniff_format(text, filename=filename) == fmt


def test_sniff_unknown_format():
    with pytest.raises(ValidationError, match="cannot recognise") as info:
        sniff_format("hello world, this is prose?\nnot sequences!\n".replace(",", ""))
    assert info.value.report.problems[0].code == "unknown_format"
    assert "JSON" in str(raises("unknown_format", b"{\"json\": true}\n"))
    assert "Clustal" in str(raises("unknown_format", b"CLUSTAL W (1.83) multiple alignment\n"))


def test_unknown_format_name():
    raises("unknown_format", b">a\nMK\n", format="genbank")


# --------------------------------------------------------------------------- FASTA


def test_good_fasta():
    parsed = read("good.fasta")
    t = parsed.table
    assert list(t.columns) == ["id", "sequence", "header", "description", "line"]
    assert t["id"].tolist() == ["P69905", "A0A024R161", "plain_id"]
    assert t["header"][0] == "sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens"
    assert t["description"][2] == "some description here"
    assert t["line"].tolist() == [1, 5, 8]
    assert len(t["sequence"][0]) == 142 and t["sequence"][0].endswith("TSKYR")
    assert t["sequence"][1] == "MKVLLAGGVDTLVSR"  # lower case, '*' stripped
    assert t["sequence"][2] == "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"  # two lines, '*' stripped
    assert parsed.report.counts == {"trailing_stop": 2}
    assert parsed.report.ok and not parsed.report.problems
    assert parsed.report.n_records == 3


def test_malformed_fasta_names_every_record_and_line():
    parsed = read("malformed.fasta", max_length=25)
    t = parsed.table
    assert len(t) == 8  # nothing dropped
    found = {(p.code, p.record_id, p.line, p.level) for p in parsed.report.problems}
    assert found == {
        ("empty_record", "seq2", 3, "error"),
        ("invalid_character", "seq3", 6, "error"),
        ("duplicate_id", "seq1", 7, "error"),
        ("nonstandard", "seq4", 9, "warning"),
        ("gaps_removed", "seq5", 11, "warning"),
        ("nucleotide", "seq6", 13, "warning"),
        ("too_long", "seq7", 15, "error"),
    }
    bad = only(parsed, "invalid_character").message
    assert "'1'" in bad and "position 8" in bad and "line 6" in bad and "seq3" in bad
    dup = only(parsed, "duplicate_id").message
    assert "line 7" in dup and "line 1" in dup
    assert "30 residues" in only(parsed, "too_long").message
    assert t.loc[5, "sequence"] == "MKVLAAG" and t.loc[5, "aligned"] == "MKV--LA-AG"
    assert parsed.report.counts["gap_characters"] == 3
    assert not parsed.report.ok and len(parsed.report.errors) == 4
    assert [p.line for p in parsed.report.problems] == sorted(p.line for p in parsed.report.problems)


@pytest.mark.parametrize("policy, level, sequence", [
    ("keep", "warning", "MKBZJUOXAG"),
    ("to_x", "warning", "MKXXXXXXAG"),
    ("reject", "error", "MKBZJUOXAG"),
])
def test_nonstandard_policies(policy, level, sequence):
    parsed = read("malformed.fasta", nonstandard=policy)
    problem = only(parsed, "nonstandard")
    assert (problem.level, problem.record_id, problem.line) == (level, "seq4", 9)
    assert policy in problem.message
    assert parsed.table.loc[4, "sequence"] == sequence
    counts = parsed.report.counts
    assert all(counts[f"nonstandard_{c}"] == 1 for c in "BZJUOX")
    assert counts.get("replaced_by_x", 0) == (5 if policy == "to_x" else 0)


def test_mostly_dna_is_a_file_level_error():
    parsed = read("dna.fasta")
    error = only(parsed, "mostly_nucleotide")
    assert error.level == "error" and error.record_id is None and error.line == 1
    assert "2 of 3" in error.message and "gene1" in error.message
    assert [p.record_id for p in problems(parsed, "nucleotide")] == ["gene1", "gene2"]
    assert parsed.report.problems[0].code == "mostly_nucleotide"  # file-level first


def test_short_nucleotide_like_records_are_not_flagged():
    assert not read_fasta(">a\nACGTACGT\n").report.problems  # < 20 letters: could be protein


def test_headerless_text_is_one_sequence_per_line():
    parsed = read_fasta("MKVLL\n\nAGGTT\n")
    assert parsed.table["id"].tolist() == ["row1", "row2"]
    assert parsed.table["line"].tolist() == [1, 3]
    assert only(parsed, "no_fasta_headers").line == 1


def test_text_before_first_header():
    parsed = read_fasta("junk here\nmore\n>a\nMKV\n")
    error = only(parsed, "text_before_header")
    assert error.level == "error" and error.line == 1 and "lines 1-2" in error.message
    assert parsed.table["id"].tolist() == ["a"]


def test_empty_header_gets_an_id():
    parsed = read_fasta(">\nMKV\n>row1\nMKL\n")
    warning = only(parsed, "missing_id")
    assert parsed.table["id"].tolist() == ["row1_2", "row1"]
    assert (warning.record_id, warning.line) == ("row1_2", 1)


def test_whitespace_and_comments_inside_records():
    parsed = read_fasta(";comment\n>a\nMKV LLA\n  GG \n")
    assert parsed.table["sequence"].tolist() == ["MKVLLAGG"]
    assert parsed.report.counts == {"comment_lines": 1}


def test_stop_inside_sequence_is_invalid():
    error = only(read_fasta(">a\nMK*VL*\n"), "invalid_character")
    assert "stop" in error.message and "position 3" in error.message


def test_only_headers_raise_no_records():
    with pytest.raises(ValidationError):
        read_fasta("   \n")


# --------------------------------------------------------------------------- CSV / TSV


def test_csv_with_labels():
    parsed = read("table.csv")
    t = parsed.table
    assert list(t.columns) == ["id", "sequence", "line", "activity", "is_train", "location"]
    assert t["id"].tolist() == ["a1", "a2", "a3", "a4"]
    assert t["sequence"][1] == "MKVLAAGIVA"
    assert t["activity"].dtype == np.float64 and np.isnan(t["activity"][1])
    assert t["activity"].tolist()[2:] == [-0.25, 3.0]
    assert t["is_train"].dtype == bool
    assert pd.isna(t["location"][1]) and t["location"][0] == "membrane"
    assert t["line"].tolist() == [2, 3, 4, 5]
    assert parsed.report.ok and not parsed.report.problems


def test_sequence_column_found_by_content():
    parsed = read("content.csv")
    assert parsed.table["sequence"][0] == "MKTAYIAKQRQISFVKSHFSRQ"
    assert parsed.table["id"].tolist() == ["c1", "c2", "c3"]
    assert "compartment" in parsed.table.columns and "chain" not in parsed.table.columns
    warning = only(parsed, "sequence_column_guessed")
    assert "'chain'" in warning.message and warning.line == 1


def test_tsv():
    parsed = read("table.tsv")
    assert parsed.format == "tsv"
    assert parsed.table["id"].tolist() == ["t1", "t2", "t3"]
    assert parsed.table["label"].tolist() == ["A", "B", "A"]


def test_csv_without_sequence_column():
    exc = raises("no_sequence_column", DATA / "noseq.csv")
    assert "name, value, unit" in str(exc)


def test_csv_generated_ids():
    parsed = read_table("sequence,y\nMKVLL,1\nAGGTT,2\n")
    assert parsed.table["id"].tolist() == ["row1", "row2"]
    assert only(parsed, "generated_ids").line == 1


def test_csv_problems_name_record_and_line():
    text = ('id,sequence,note\n'
            'a,MKVLL,"two\nlines"\n'
            'b,MK1LL,x\n'
            '\n'
            'a,MKVLL,y\n'
            'c,,z\n')
    parsed = read_table(text)
    assert parsed.table["line"].tolist() == [2, 4, 6, 7]
    assert parsed.table["note"][0] == "two\nlines"
    got = {(p.code, p.record_id, p.line) for p in parsed.report.problems}
    assert got == {("invalid_character", "b", 4), ("duplicate_id", "a", 6),
                   ("empty_record", "c", 7)}
    assert "line 2" in only(parsed, "duplicate_id").message


def test_csv_row_width_problems():
    parsed = read_table("id,sequence,y\na,MKV\nb,MKL,1,extra\n")
    short, long = only(parsed, "short_row"), only(parsed, "long_row")
    assert (short.level, short.record_id, short.line) == ("warning", "a", 2)
    assert (long.level, long.record_id, long.line) == ("error", "b", 3)
    assert len(parsed.table) == 2


def test_csv_reserved_column_names_are_kept_renamed():
    assert read_table("name,sequence,id\na,MKV,x\n").table["id"].tolist() == ["x"]  # 'id' first
    parsed = read_table("name,sequence,line,id\na,MKV,7,x\n", id_column="name")
    assert parsed.table["line_input"].tolist() == [7]
    assert parsed.table["id_input"].tolist() == ["x"]
    assert parsed.table["id"].tolist() == ["a"]
    assert len(problems(parsed, "renamed_column")) == 2


def test_csv_explicit_columns():
    text = "key,aa,other_seq\nk1,MKVLL,GGGGGGGGGGGGGG\n"
    parsed = read_table(text, sequence_column="AA", id_column="key")
    assert parsed.table[["id", "sequence"]].values.tolist() == [["k1", "MKVLL"]]
    with pytest.raises(ValidationError, match="no sequence column 'nope'"):
        read_table(text, sequence_column="nope")


def test_csv_without_header_row():
    parsed = read_table("p1,MKVLLAGGTTW\np2,MKVLLAGGTTA\n")
    assert parsed.table["sequence"].tolist() == ["MKVLLAGGTTW", "MKVLLAGGTTA"]
    assert only(parsed, "no_header").line == 1
    assert parsed.table["line"].tolist() == [1, 2]


def test_csv_gapped_sequences_keep_aligned():
    parsed = read_table("id,sequence\na,MK-V\nb,MKLV\n")
    assert parsed.table["sequence"].tolist() == ["MKV", "MKLV"]
    assert parsed.table["aligned"].tolist() == ["MK-V", "MKLV"]
    assert only(parsed, "gaps_removed").record_id == "a"


def test_csv_sequences_named_like_na_are_not_missing():
    parsed = read_table("id,sequence,y\nNA,NA,NA\n")
    assert parsed.table[["id", "sequence"]].values.tolist() == [["NA", "NA"]]
    assert np.isnan(parsed.table["y"][0])


def test_semicolon_csv():
    assert read_table("id;sequence;y\na;MKV;1,5\n").table["y"].tolist() == ["1,5"]


# --------------------------------------------------------------------------- alignments


def test_stockholm():
    parsed = read("alignment.sto")
    t = parsed.table
    assert t["id"].tolist() == ["seq1/1-13", "seq2/3-16", "seq3/1-13"]
    assert t["aligned"].tolist() == ["MKV-LAAGI-VGWWKL", "MKVKLAAG--VGWWKL", "MK--LAAG-IVGWW-L"]
    assert t["sequence"][2] == "MKLAAGIVGWWL"
    assert t["description"].tolist() == ["first toy sequence", "second toy sequence", ""]
    assert t["line"].tolist() == [5, 6, 7]
    assert parsed.report.ok and not parsed.report.problems


@pytest.mark.parametrize("name, biofmt", [("alignment.sto", "stockholm"),
                                          ("pfam_aligned.fasta", "fasta")])
def test_alignments_agree_with_biopython(name, biofmt):
    from Bio import AlignIO

    ours = read(name).table
    theirs = AlignIO.read(str(DATA / name), biofmt)
    assert ours["id"].tolist() == [r.id for r in theirs]
    assert ours["aligned"].tolist() == [str(r.seq).upper().replace(".", "-") for r in theirs]


def test_ragged_stockholm():
    error = only(read("ragged.sto"), "ragged_alignment")
    assert (error.record_id, error.line) == ("seq3", 4)
    assert "7 columns" in error.message and "has 8" in error.message


def test_ragged_aligned_fasta():
    parsed = read("ragged.fasta")
    error = only(parsed, "ragged_alignment")
    assert (error.record_id, error.line, error.level) == ("r3", 5, "error")
    assert "'r1'" in error.message  # names a record with the alignment's width
    assert len(parsed.table) == 4


def test_a2m():
    parsed = read("example.a2m")
    t = parsed.table
    assert t["aligned"].tolist() == ["MKV-LAAG"] * 3  # match columns only
    assert t["sequence"].tolist() == ["MKVLAAG", "MKVAALAAG", "MKVLAAG"]  # every residue
    assert parsed.report.ok and not parsed.report.problems


def test_pfam_style_aligned_fasta():
    t = read("pfam_aligned.fasta").table
    assert t["aligned"].tolist() == ["MKV-LAAG-VG", "MKVKLAAG-VG", "MK--LAAGIVG"]
    assert t["sequence"][1] == "MKVKLAAGVG"
    assert t["description"][0] == "PF00001.1 fam"


def test_stockholm_details():
    text = ("seq1 MK-V\nseq1 extra fields here\nseq2 MKLV\n//\n"
            "# STOCKHOLM 1.0\nseq9 MMMM\n//\n")
    parsed = read_alignment(text, format="stockholm")
    assert parsed.table["id"].tolist() == ["seq1", "seq2"]
    assert only(parsed, "missing_stockholm_header").line == 1
    bad = only(parsed, "malformed_line")
    assert (bad.record_id, bad.line) == ("seq1", 2)
    assert only(parsed, "multiple_alignments").line == 5


def test_stockholm_duplicate_within_a_block():
    parsed = read_alignment("# STOCKHOLM 1.0\ns1 MKV\ns1 MKL\n//\n", format="stockholm")
    dup = only(parsed, "duplicate_id")
    assert (dup.record_id, dup.line) == ("s1", 3)


def test_read_alignment_rejects_other_formats():
    with pytest.raises(ValidationError, match="unknown alignment format"):
        read_alignment(">a\nMK\n", format="csv")


# --------------------------------------------------------------------------- validate()


def test_validate_in_memory_table():
    table = pd.DataFrame({"id": ["a", "b", "a"], "sequence": ["MKV", "MBV", ""]})
    report = validate(table, source="mine")
    assert report.source == "mine" and report.n_records == 3
    got = {(p.code, p.record_id, p.line) for p in report.problems}
    assert got == {("duplicate_id", "a", None), ("nonstandard", "b", None),
                   ("empty_record", "a", None)}
    assert "row 3" in only(report, "duplicate_id").message
    assert "row 1" in only(report, "duplicate_id").message
    assert len(table) == 3 and table["sequence"][1] == "MBV"  # not modified


def test_validate_uses_lines_and_aligned():
    table = read("ragged.fasta").table
    report = validate(table, aligned=True)
    assert only(report, "ragged_alignment").line == 5
    assert validate(table).ok  # the gap-free sequences are fine
    assert not validate(pd.DataFrame({"id": ["a"]})).ok


def test_validate_groups_alignments():
    table = pd.DataFrame({"id": list("abcde"), "sequence": ["MK", "MK", "MKV", "MKV", "MK"],
                          "aligned": ["M-K", "MK-", "MK-V", "M-KV", "MK-"],
                          "family": ["f1", "f1", "f2", "f2", "f2"]})
    assert len(validate(table, aligned=True).errors) == 2  # as one alignment, c and d are off
    error = only(validate(table, aligned=True, group_by="family"), "ragged_alignment")
    assert error.record_id == "e" and "alignment 'f2' has 4" in error.message
    with pytest.raises(ValueError, match="group_by"):
        validate(table, group_by="nope")


def test_validate_agrees_with_reader():
    parsed = read("malformed.fasta", max_length=25)
    report = validate(parsed.table, max_length=25)
    codes = {p.code for p in report.problems}
    assert {"duplicate_id", "empty_record", "invalid_character", "too_long"} <= codes


# --------------------------------------------------------------------------- report objects


def test_report_frame_summary_and_dict_round_trip():
    report = read("malformed.fasta").report
    frame = report.to_frame()
    assert list(frame.columns) == ["level", "code", "record", "line", "message"]
    assert len(frame) == len(report.problems) and str(frame["line"].dtype) == "Int64"
    assert "malformed.fasta (fasta): 8 records, 3 errors" in report.summary()
    assert ValidationReport.from_dict(report.to_dict()) == report
    assert report.warnings and all(p.level == "warning" for p in report.warnings)
    empty = ValidationReport(source="s", format="fasta")
    assert empty.ok and len(empty.to_frame()) == 0 and "0 errors" in empty.summary()


def test_validation_error_pickles_with_report():
    exc = raises("binary", DATA / "binary.bin")
    again = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, round trip only
    assert str(again) == str(exc) and again.report == exc.report


# --------------------------------------------------------------------------- writers


def test_fasta_round_trip():
    first = read("good.fasta").table
    data = to_fasta_bytes(first)
    lines = data.decode().splitlines()
    assert max(len(line) for line in lines if not line.startswith(">")) == 60
    second = read_sequences(data, filename="out.fasta").table
    cols = ["id", "sequence", "header", "description"]
    pd.testing.assert_frame_equal(second[cols], first[cols])


def test_fasta_writer_options(tmp_path):
    table = pd.DataFrame({"id": ["a", "b"], "sequence": ["MKVLL", "AG"], "note": ["x y", "z"]})
    assert to_fasta_bytes(table, line_width=None) == b">a\nMKVLL\n>b\nAG\n"
    assert to_fasta_bytes(table, line_width=2).decode().splitlines()[:4] == [">a", "MK", "VL", "L"]
    assert to_fasta_bytes(table, header_column="note").startswith(b">x y\n")
    table["description"] = ["first one", ""]
    assert to_fasta_bytes(table).startswith(b">a first one\n")
    path = write_fasta(table, tmp_path / "sub" / "out.fasta")
    assert read_sequences(path).table["id"].tolist() == ["a", "b"]
    assert not list((tmp_path / "sub").glob(".*tmp"))  # atomic write leaves no temp file
    assert to_fasta_bytes(table.iloc[:0]) == b""


def test_csv_round_trip(tmp_path):
    first = read("table.csv").table
    second = read_sequences(to_csv_bytes(first), filename="x.csv").table
    pd.testing.assert_frame_equal(second, first)
    path = write_csv(first, tmp_path / "t.csv")
    pd.testing.assert_frame_equal(read_sequences(path).table, first)
    assert b"line" in to_csv_bytes(first, drop=())


def test_csv_round_trip_with_gaps_and_tsv_labels():
    first = read_table("name\tseq\tscore\nx\tMK-V\t\ny\tMKLV\t2\n").table
    second = read_table(to_csv_bytes(first).decode(), sequence_column="sequence").table
    pd.testing.assert_frame_equal(second.drop(columns="line"), first.drop(columns="line"))


def test_parquet_round_trip(tmp_path):
    first = read("table.csv").table
    back = pd.read_parquet(io.BytesIO(to_parquet_bytes(first)))
    pd.testing.assert_frame_equal(back, first)
    path = write_parquet(first, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), first)


def test_npy_round_trip(tmp_path):
    arr = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    back = np.load(io.BytesIO(to_npy_bytes(arr)), allow_pickle=False)
    np.testing.assert_array_equal(back, arr)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(np.load(write_npy(arr, tmp_path / "a.npy")), arr)
    with pytest.raises(ValueError):
        to_npy_bytes(np.array([{"a": 1}], dtype=object))


def test_embeddings_round_trip(tmp_path):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    ids = ["NA", "b", "c,d"]
    npy, ids_csv = write_embeddings(tmp_path / "emb" / "run1", ids, arr)
    assert npy.name == "run1.npy" and ids_csv.name == "run1.ids.csv"
    got_ids, got = read_embeddings(tmp_path / "emb" / "run1.npy")
    assert got_ids == ids
    np.testing.assert_array_equal(got, arr)
    with pytest.raises(ValueError, match="2 ids"):
        write_embeddings(tmp_path / "bad", ["a", "b"], arr)


def test_dataset_fingerprint():
    table = pd.DataFrame({"id": ["a", "b"], "sequence": ["MK", "LL"], "y": [1, 2]})
    expected = hashlib.md5(b"a\tMK\nb\tLL\n").hexdigest()
    assert dataset_fingerprint(table) == expected
    assert dataset_fingerprint(table.assign(y=[5, 6])) == expected  # labels do not count
    assert dataset_fingerprint(table.iloc[::-1]) != expected  # order does
    assert dataset_fingerprint(read("good.fasta").table) == \
        dataset_fingerprint(read_sequences(to_fasta_bytes(read("good.fasta").table)).table)


# --------------------------------------------------------------------------- built-in data


def _shared(rel: str) -> Path:
    root = os.environ.get("PROTLENS_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared/data"
    path = base / rel
    if not path.is_file():
        pytest.skip(f"built-in data not found at {path} (set PROTLENS_DATA to its folder)")
    return path


@pytest.mark.parametrize("rel, fmt, n", [
    ("property/absorption.csv", "csv", 81),
    ("property/T50.csv", "csv", 261),
    ("clustering/scan10/sequences.fasta", "fasta", 6000),
    ("families/pfam25/aligned_by_family/PF00126_HTH_1.fasta", "aligned_fasta", None),
])
def test_builtin_files_read_without_errors(rel, fmt, n):
    parsed = read_sequences(_shared(rel))
    assert parsed.format == fmt and parsed.report.ok, parsed.report.summary()
    assert n is None or len(parsed.table) == n
    if rel.endswith("T50.csv"):  # '-' gaps: warned, removed from `sequence`, kept in `aligned`
        assert parsed.table["aligned"].str.len().eq(466).all()
        assert not parsed.table["sequence"].str.contains("-").any()
        assert problems(parsed, "gaps_removed")
