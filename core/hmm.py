"""Profile HMMs with pyhmmer (HMMER 3, MIT-licensed bindings): build, align, summarise.

ProtLens never aligns by hand. A group of proteins (a cluster, a family) is aligned by building
a profile HMM — from one central sequence with BLOSUM62 (as phmmer/jackhmmer do) or from an
existing alignment (as hmmbuild does) — and aligning every member to it with hmmalign. One
refinement round (rebuild the HMM from the first alignment, align again) gives a
family-specific profile, as jackhmmer's second iteration would.

Aligned rows here keep only the model's match (consensus) columns: residues upper case, deletions
``-``; insertions relative to the model are dropped, so every row has the model's length.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.alphabet import gap_mask

_NOT_RESIDUE = re.compile(r"[^A-Za-z]")
_INSERTS = re.compile(r"[a-z.]")


def _pyhmmer():
    import pyhmmer

    return pyhmmer


def _alphabet():
    return _pyhmmer().easel.Alphabet.amino()


def digitize(ids: Sequence[str], sequences: Sequence[str]):
    """A ``DigitalSequenceBlock`` of unaligned proteins (gaps and other non-letters removed)."""
    easel = _pyhmmer().easel
    alphabet = _alphabet()
    block = []
    for name, seq in zip(ids, sequences, strict=True):
        residues = _NOT_RESIDUE.sub("", str(seq)).upper()
        if not residues:
            raise ValueError(f"record {name!r} has no residues to align")
        block.append(easel.TextSequence(name=str(name).encode(), sequence=residues)
                     .digitize(alphabet))
    return easel.DigitalSequenceBlock(alphabet, block)


def hmm_from_sequence(sequence: str, name: str = "query"):
    """A profile HMM from one protein (BLOSUM62 scores, HMMER's default gap probabilities)."""
    plan7 = _pyhmmer().plan7
    alphabet = _alphabet()
    builder = plan7.Builder(alphabet)
    seq = digitize([name], [sequence])[0]
    return builder.build(seq, plan7.Background(alphabet))[0]


def hmm_from_alignment(ids: Sequence[str], rows: Sequence[str], name: str = "profile", *,
                       symfrac: float = 0.5):
    """A profile HMM from aligned rows of equal length (``-`` or ``.`` for gaps), as hmmbuild.

    ``symfrac``: a column becomes a match state when at least this share of rows has a residue
    there (hmmbuild's default 0.5); 0 keeps every column that holds any residue, so sequences
    aligned later land on the input alignment's own columns."""
    pyhmmer = _pyhmmer()
    easel, plan7 = pyhmmer.easel, pyhmmer.plan7
    rows = [str(r).upper().replace(".", "-") for r in rows]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("aligned rows must all have the same length")
    alphabet = _alphabet()
    msa = easel.TextMSA(name=name.encode(), sequences=[
        easel.TextSequence(name=str(i).encode(), sequence=r)
        for i, r in zip(ids, rows, strict=True)]).digitize(alphabet)
    builder = plan7.Builder(alphabet, symfrac=symfrac)
    return builder.build_msa(msa, plan7.Background(alphabet))[0]


def align_to_hmm(hmm, ids: Sequence[str], sequences: Sequence[str], *,
                 trim: bool = False) -> list[str]:
    """Each protein aligned to ``hmm`` with hmmalign: match columns only, ``-`` for deletions
    (every row has ``hmm.M`` columns). ``trim`` drops residues outside the model's span."""
    hmmer = _pyhmmer().hmmer
    msa = hmmer.hmmalign(hmm, digitize(ids, sequences), cpus=1, trim=trim,
                         all_consensus_cols=True)
    rows = [_INSERTS.sub("", row) for row in msa.alignment]
    wrong = [len(r) for r in rows if len(r) != hmm.M]
    if wrong:
        raise ValueError(f"hmmalign gave {wrong[0]} match columns, expected {hmm.M}")
    return rows


@dataclass(frozen=True)
class GroupAlignment:
    """Members of a group aligned on a profile built from the group itself."""

    ids: list[str]
    rows: list[str]  # match columns only, equal length
    seed_id: str  # the protein the first profile was built from
    n_members: int  # members in the group (rows may hold fewer: see max_members)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def align_group(ids: Sequence[str], sequences: Sequence[str], *, seed: int = 0,
                refine: bool = True, max_members: int = 200) -> GroupAlignment:
    """Align a group on a profile HMM grown from one member.

    ``seed`` indexes the member the first profile is built from (the most central one, say);
    members should be ordered most-central first, because only the first ``max_members`` are
    aligned (alignment cost is linear, but logos of thousands of rows tell nothing more).
    With ``refine``, the profile is rebuilt from that first alignment and members aligned again.
    """
    ids = [str(i) for i in ids][:max_members]
    sequences = list(sequences)[:max_members]
    if not ids:
        raise ValueError("an empty group cannot be aligned")
    seed = min(max(0, int(seed)), len(ids) - 1)
    hmm = hmm_from_sequence(sequences[seed], name=ids[seed])
    rows = align_to_hmm(hmm, ids, sequences)
    if refine and len(ids) > 1:
        hmm = hmm_from_alignment(ids, rows, name=ids[seed])
        rows = align_to_hmm(hmm, ids, sequences)
    return GroupAlignment(ids=ids, rows=rows, seed_id=ids[seed], n_members=len(ids))


def column_occupancy(rows: Sequence[str]) -> np.ndarray:
    """Share of rows with a residue (not a gap) in each column."""
    if not rows:
        return np.zeros(0)
    return 1.0 - gap_mask(rows).mean(axis=0)
