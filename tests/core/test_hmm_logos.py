"""Profile-HMM alignment of a group (pyhmmer) and the logos drawn from it (logomaker)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from core.hmm import (
    align_group,
    align_to_hmm,
    column_occupancy,
    hmm_from_alignment,
    hmm_from_sequence,
)
from core.logos import figure_bytes, logo_figure, logo_matrix

AA = "ACDEFGHIKLMNPQRSTVWY"


def _family(n: int = 30, length: int = 60, seed: int = 0) -> tuple[str, list[str]]:
    """A motif and members with ~10 % substitutions, random tails and one deletion each."""
    rng = random.Random(seed)
    motif = "".join(rng.choice(AA) for _ in range(length))
    members = []
    for _ in range(n):
        seq = [rng.choice(AA) if rng.random() < 0.1 else c for c in motif]
        cut = rng.randrange(10, length - 10)
        del seq[cut]
        head = "".join(rng.choice(AA) for _ in range(rng.randrange(0, 6)))
        members.append(head + "".join(seq))
    return motif, members


def test_group_alignment_recovers_the_motif_column_by_column():
    motif, members = _family()
    ids = [f"m{i}" for i in range(len(members))]
    group = align_group(ids, members, seed=0)
    assert group.ids == ids and group.n_members == len(members)
    assert len({len(r) for r in group.rows}) == 1 and group.width >= 0.9 * len(motif)
    assert all(set(r) <= set(AA + "-") for r in group.rows)
    occupancy = column_occupancy(group.rows)
    assert occupancy.mean() > 0.9
    # The consensus of the alignment is the motif (substitutions are random, 10 %).
    consensus = "".join(max(AA, key=lambda a, col=col: sum(r[col] == a for r in group.rows))
                        for col in range(group.width))
    from difflib import SequenceMatcher

    assert SequenceMatcher(None, consensus, motif, autojunk=False).ratio() > 0.9


def test_alignment_strips_gaps_and_refuses_empty_records():
    hmm = hmm_from_sequence("MKTAYIAKQRQISFVKSHFSRQ")
    rows = align_to_hmm(hmm, ["a", "b"], ["MKT-AYIAKQRQISFVKSHFSRQ", "MKTAYIAKQRQ"])
    assert len(rows[0]) == len(rows[1]) == 22
    with pytest.raises(ValueError, match="'empty'"):
        align_to_hmm(hmm, ["empty"], ["---"])
    with pytest.raises(ValueError, match="same length"):
        hmm_from_alignment(["a", "b"], ["MKT", "MK"])


def test_logo_matrix_kinds_and_window():
    rows = ["ACDE", "ACDF", "AC-F"]
    counts = logo_matrix(rows, kind="counts")
    assert list(counts.columns) == list(AA) and list(counts.index) == [1, 2, 3, 4]
    assert counts.loc[3].sum() == 2  # the gap is not counted
    assert counts.loc[1, "A"] == 3
    info = logo_matrix(rows, kind="information")
    assert np.all(info.to_numpy() <= np.log2(20) + 1e-9)
    assert info.loc[1].sum() > info.loc[4].sum()  # a conserved column carries more bits
    window = logo_matrix(rows, kind="probability", start=1, stop=3)
    assert list(window.index) == [2, 3]
    assert np.allclose(window.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        logo_matrix(rows, kind="bits")


def test_logo_figure_renders_png_and_svg():
    matrix = logo_matrix(["ACDE", "ACDF"], kind="information")
    png = figure_bytes(logo_figure(matrix, title="t"), "png")
    svg = figure_bytes(logo_figure(matrix), "svg")
    assert png.startswith(b"\x89PNG") and b"<svg" in svg[:500]
