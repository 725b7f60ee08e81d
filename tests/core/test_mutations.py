"""Mutation notation: parse, check, apply, diff, format; real names from absorption.csv."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pandas as pd
import pytest

import core.io
from core.alphabet import AA20
from core.mutations import (
    Mutation,
    apply_mutations,
    diff_mutations,
    format_mutations,
    parse_mutations,
)

PARENT = "MDWKLAG"  # W3, K4


def _data_file(rel: str) -> Path:
    root = os.environ.get("PROTLENS_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared/data"
    return base / rel


def test_mutation_value_object():
    m = Mutation(122, "W", "A")
    assert str(m) == "W122A" and m.to_hgvs() == "Trp122Ala"
    assert sorted([Mutation(5, "A", "G"), Mutation(2, "D", "N")])[0].position == 2
    assert Mutation(True + 1, "A", "G").position == 2
    with pytest.raises(ValueError, match=">= 1"):
        Mutation(0, "A", "G")
    with pytest.raises(ValueError, match="wt"):
        Mutation(1, "a", "G")
    with pytest.raises(ValueError, match="mt"):
        Mutation(1, "A", "*")
    with pytest.raises(ValueError, match="integer"):
        Mutation(1.5, "A", "G")


@pytest.mark.parametrize("notation, expected", [
    ("W122A", [Mutation(122, "W", "A")]),
    ("G162S/E166W/S181G", [Mutation(162, "G", "S"), Mutation(166, "E", "W"),
                           Mutation(181, "S", "G")]),
    ("A1P:D2N", [Mutation(1, "A", "P"), Mutation(2, "D", "N")]),
    ("D2N:A1P", [Mutation(1, "A", "P"), Mutation(2, "D", "N")]),  # sorted by position
    ("p.Trp122Ala", [Mutation(122, "W", "A")]),
    ("p.(Trp122Ala)", [Mutation(122, "W", "A")]),
    ("p.[Trp122Ala;Asp2Asn]", [Mutation(2, "D", "N"), Mutation(122, "W", "A")]),
    ("p.W122A", [Mutation(122, "W", "A")]),
    ("W122A/D2N", [Mutation(2, "D", "N"), Mutation(122, "W", "A")]),
    ("w122a", [Mutation(122, "W", "A")]),
    (" W122A, D2N ", [Mutation(2, "D", "N"), Mutation(122, "W", "A")]),
    ("p.Sec5Pyl", [Mutation(5, "U", "O")]),
])
def test_parse_notations(notation, expected):
    assert parse_mutations(notation) == expected


@pytest.mark.parametrize("notation", ["", "WT", "wt", "wild-type", "parent", "p.=", "  "])
def test_parse_no_mutation(notation):
    assert parse_mutations(notation) == []
    assert parse_mutations(notation, parent=PARENT) == []


def test_wrong_wild_type_names_position_expected_and_found():
    with pytest.raises(ValueError, match=r"position 3: expected A, found W") as info:
        parse_mutations("A3G", parent=PARENT)
    assert "A3G" in str(info.value)


def test_out_of_range():
    with pytest.raises(ValueError, match=r"position 8 is out of range .* length 7"):
        parse_mutations("G8A", parent=PARENT)
    with pytest.raises(ValueError, match="out of range"):
        apply_mutations(PARENT, [Mutation(9, "A", "G")])


@pytest.mark.parametrize("notation, match", [
    ("X122", "cannot parse 'X122'"),
    ("W122*", "stop"),
    ("p.Trp122Ter", "stop"),
    ("p.Trp122del", "indels"),
    ("p.Xyz3Ala", "unknown amino-acid code 'Xyz'"),
    ("W3A/W3G", "mutated twice"),
    ("p.[]", "cannot parse"),
    ("122", "cannot parse"),
])
def test_parse_errors(notation, match):
    with pytest.raises(ValueError, match=match):
        parse_mutations(notation)


def test_parse_rejects_non_strings():
    with pytest.raises(ValueError, match="string"):
        parse_mutations(None)  # type: ignore[arg-type]


def test_apply_and_diff():
    assert apply_mutations(PARENT, "W3A:K4R") == "MDARLAG"
    assert apply_mutations(PARENT, [Mutation(1, "M", "V")]) == "VDWKLAG"
    assert apply_mutations(PARENT, "WT") == PARENT
    assert diff_mutations("MDARLAG", PARENT) == [Mutation(3, "W", "A"), Mutation(4, "K", "R")]
    assert diff_mutations(PARENT, PARENT) == []
    assert diff_mutations("mdarlag", PARENT) == diff_mutations("MDARLAG", PARENT)


def test_apply_checks_wild_type():
    with pytest.raises(ValueError, match="expected G, found M"):
        apply_mutations(PARENT, [Mutation(1, "G", "A")])


def test_diff_aligned_sequences():
    # Positions count the parent's residues; shared gap columns are skipped.
    assert diff_mutations("M-DAK", "M-DWK") == [Mutation(3, "W", "A")]
    assert diff_mutations("M.DAK", "M-DWK") == [Mutation(3, "W", "A")]
    with pytest.raises(ValueError, match="insertion"):
        diff_mutations("MADWK", "M-DWK")
    with pytest.raises(ValueError, match="deletion"):
        diff_mutations("M--WK", "M-DWK")


def test_diff_unequal_lengths():
    with pytest.raises(ValueError, match="6 characters but the parent has 7"):
        diff_mutations("MDWKLA", PARENT)


def test_diff_apply_round_trip_random():
    rng = random.Random(0)
    for _ in range(200):
        parent = "".join(rng.choice(AA20) for _ in range(rng.randint(1, 60)))
        child = "".join(rng.choice(AA20) if rng.random() < 0.2 else c for c in parent)
        muts = diff_mutations(child, parent)
        assert apply_mutations(parent, muts) == child
        for style in ("compact", "proteingym", "hgvs"):
            assert parse_mutations(format_mutations(muts, style=style), parent=parent) == muts


def test_format_styles():
    muts = [Mutation(122, "W", "A"), Mutation(2, "D", "N")]
    assert format_mutations(muts) == "W122A/D2N"
    assert format_mutations(muts, style="proteingym") == "W122A:D2N"
    assert format_mutations(muts, style="hgvs") == "p.[Trp122Ala;Asp2Asn]"
    assert format_mutations(muts[:1], style="hgvs") == "p.Trp122Ala"
    assert format_mutations([]) == "WT" and format_mutations([], style="hgvs") == "p.="
    with pytest.raises(ValueError, match="style"):
        format_mutations(muts, style="fancy")


def test_core_io_reexports():
    assert core.io.parse_mutations is parse_mutations
    assert core.io.Mutation is Mutation
    for name in ("apply_mutations", "diff_mutations", "format_mutations"):
        assert getattr(core.io, name) is globals()[name]


def test_absorption_names_reproduce_sequences():
    path = _data_file("property/absorption.csv")
    if not path.is_file():
        pytest.skip(f"built-in data not found at {path} (set PROTLENS_DATA to its folder)")
    df = pd.read_csv(path)
    parent = df.loc[df["name"] == "parent", "sequence"].item()
    assert len(df) > 50
    for name, seq, m in zip(df["name"], df["sequence"], df["m"], strict=True):
        muts = parse_mutations(name, parent=parent)
        assert apply_mutations(parent, muts) == seq, name
        assert len(muts) == m, name
        assert diff_mutations(seq, parent) == muts, name
        assert format_mutations(muts) == ("WT" if name == "parent" else name)
