"""Profile HMMs with pyhmmer: build from a family's alignment, align new sequences onto it,
and assign sequences to families by best hmmsearch bit score (the baseline a biologist uses).
"""
from __future__ import annotations

import numpy as np


def _alphabet():
    import pyhmmer

    return pyhmmer.easel.Alphabet.amino()


def build_hmm(name: str, aligned: list[str], *, ids: list[str] | None = None,
              all_columns: bool = True):
    """A plan7 HMM from equal-width aligned rows ('-' gaps).

    ``all_columns`` makes every column holding any residue a match state (symfrac 0), so an
    hmmalign of new sequences lands on the same columns as the input alignment.
    """
    import pyhmmer

    alphabet = _alphabet()
    ids = ids or [f"s{i}" for i in range(len(aligned))]
    seqs = [pyhmmer.easel.TextSequence(name=f"{i}_{k}".encode(), sequence=row.replace(".", "-"))
            for k, (i, row) in enumerate(zip(ids, aligned, strict=True))]
    msa = pyhmmer.easel.TextMSA(name=name.encode(), sequences=seqs).digitize(alphabet)
    builder = pyhmmer.plan7.Builder(alphabet, symfrac=0.0 if all_columns else 0.5)
    hmm, _, _ = builder.build_msa(msa, pyhmmer.plan7.Background(alphabet))
    return hmm


def _digital(sequences: list[str], names: list[str] | None = None):
    import pyhmmer

    alphabet = _alphabet()
    names = names or [f"q{i}" for i in range(len(sequences))]
    return pyhmmer.easel.DigitalSequenceBlock(alphabet, [
        pyhmmer.easel.TextSequence(name=str(n).encode(), sequence=s.upper()).digitize(alphabet)
        for n, s in zip(names, sequences, strict=True)])


def align_to_hmm(hmm, sequences: list[str]) -> list[str]:
    """hmmalign ``sequences`` onto ``hmm``; rows over the match columns only ('-' gaps).

    Insert residues (lower case / '.') are dropped, as for the family rows after gap rule 2,
    so every row has exactly ``hmm.M`` columns.
    """
    import pyhmmer

    msa = pyhmmer.hmmer.hmmalign(hmm, _digital(sequences), trim=True, all_consensus_cols=True)
    rows = []
    for row in msa.alignment:
        kept = "".join(ch for ch in row if ch == "-" or ch.isupper())
        if len(kept) != hmm.M:
            raise ValueError(f"hmmalign gave {len(kept)} match columns, expected {hmm.M}")
        rows.append(kept)
    return rows


def best_family(hmms: dict, sequences: list[str], *, cpus: int = 1
                ) -> tuple[list[str | None], np.ndarray]:
    """Family of each sequence by best full-sequence bit score over all ``hmms``.

    Returns (predicted family or None when no HMM reported a hit, scores (N, K) with -inf
    where no hit). Reporting threshold is opened wide (E <= 1e3) so weak hits still count.
    """
    import pyhmmer

    names = list(hmms)
    block = _digital(sequences)
    scores = np.full((len(sequences), len(names)), -np.inf)
    for k, hits in enumerate(pyhmmer.hmmer.hmmsearch([hmms[n] for n in names], block,
                                                     cpus=cpus, E=1e3, Z=len(sequences))):
        for hit in hits:
            name = hit.name.decode() if isinstance(hit.name, bytes) else hit.name
            scores[int(name[1:]), k] = hit.score
    best = scores.argmax(1)
    pred = [names[b] if np.isfinite(scores[i, b]) else None for i, b in enumerate(best)]
    return pred, scores
