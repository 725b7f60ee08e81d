"""Phenotype labels parsed from resistance descriptions: a supervised signal for the protein
tower (session 6).

A ResFinder text names a drug class ("... protein of the Beta-lactam class") and a drug list
("Confers resistance to Ampicillin, Ceftazidime.", or "... (specific drugs not determined)").
:class:`DrugLabels` turns each text into a multi-hot vector over the drugs and classes seen in
the *training* texts (plus one "undetermined" label); an auxiliary head on the protein
embedding predicts it with a binary cross-entropy (``drug_weight`` of
:class:`~core.tasks.text_train.TextTrainConfig`), so that twins with different drug lists
must map to different points. Texts without these phrases (a user's own CSV) just give
all-zero rows.
"""
from __future__ import annotations

import re

import numpy as np

_DRUGS = re.compile(r"Confers resistance to (.+?)\.?\s*$")
_CLASS = re.compile(r"protein of the (.+?) class")
UNDETERMINED = "(undetermined)"


def phenotype_terms(text: str) -> list[str]:
    """Drug names, ``class:<name>`` and :data:`UNDETERMINED` named by one description."""
    terms = []
    m = _CLASS.search(text)
    if m:
        terms += [f"class:{c.strip().lower()}" for c in m.group(1).split(",") if c.strip()]
    m = _DRUGS.search(text.strip())
    if m:
        drugs = m.group(1)
        if "not determined" in drugs:
            terms.append(UNDETERMINED)
        else:
            terms += [d.strip().lower() for d in drugs.split(",") if d.strip()]
    return terms


class DrugLabels:
    """Multi-hot phenotype labels over the terms of the training texts."""

    def fit(self, texts: list[str]) -> DrugLabels:
        self.terms_ = np.asarray(sorted({t for x in texts for t in phenotype_terms(x)}),
                                 dtype=str)
        return self

    def __len__(self) -> int:
        return len(self.terms_)

    def transform(self, texts: list[str]) -> np.ndarray:
        """(N, len(self)) float32 of 0/1; terms unseen in training are ignored."""
        index = {t: i for i, t in enumerate(self.terms_.tolist())}
        out = np.zeros((len(texts), len(index)), np.float32)
        for r, text in enumerate(texts):
            for t in phenotype_terms(text):
                if t in index:
                    out[r, index[t]] = 1.0
        return out


_TEMPLATE = "Antimicrobial resistance protein of the"


def note_of(text: str) -> str:
    """The curator's note of a ResFinder description: what precedes the fixed template
    ("Class A beta-lactamase. Alternate name; blaTEM-1.", "Natural in ..."); "" when none."""
    i = text.find(_TEMPLATE)
    return text[:i].strip() if i > 0 else ""


def note_features(texts: list[str], *, device=None) -> np.ndarray:
    """MiniLM of each text's note alone (N, 384), all-zero rows for texts without a note, so
    the text head sees the note apart from the phenotype words that dominate the sentence."""
    from core.tasks.text_features import embed_texts

    notes = [note_of(t) for t in texts]
    out = np.zeros((len(texts), 384), np.float32)
    have = [i for i, n in enumerate(notes) if n]
    if have:
        out[have] = embed_texts([notes[i] for i in have], device=device)
    return out
