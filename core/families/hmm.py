"""Profile HMMs with pyhmmer: build from a family's alignment, align new sequences onto it,
and assign sequences to families by best hmmsearch bit score (the baseline a biologist uses).
"""
from __future__ import annotations

import numpy as np

from core.hmm import align_to_hmm as hmm_align
from core.hmm import digitize, hmm_from_alignment


def build_hmm(name: str, aligned: list[str], *, ids: list[str] | None = None,
              all_columns: bool = True):
    """A plan7 HMM from equal-width aligned rows ('-' gaps).

    ``all_columns`` makes every column holding any residue a match state (symfrac 0), so an
    hmmalign of new sequences lands on the same columns as the input alignment.
    """
    ids = ids or [f"s{i}" for i in range(len(aligned))]
    names = [f"{i}_{k}" for k, i in enumerate(ids)]  # unique even when ids repeat
    return hmm_from_alignment(names, aligned, name=name,
                              symfrac=0.0 if all_columns else 0.5)


def _digital(sequences: list[str]):
    return digitize([f"q{i}" for i in range(len(sequences))], sequences)


def align_to_hmm(hmm, sequences: list[str]) -> list[str]:
    """hmmalign ``sequences`` onto ``hmm``; rows over the match columns only ('-' gaps).

    Insert residues are dropped, as for the family rows after gap rule 2, so every row has
    exactly ``hmm.M`` columns; residues outside the model's span are trimmed.
    """
    return hmm_align(hmm, [f"q{i}" for i in range(len(sequences))], sequences, trim=True)


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
