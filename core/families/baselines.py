"""Baselines beside the deep model: profile HMMs per family (pyhmmer) and k-mer logistic
regression on the unaligned sequences."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd


def hmm_baseline(table: pd.DataFrame, names: list[str], *, cpus: int = 1,
                 on_built=None) -> tuple[np.ndarray, dict]:
    """Build one HMM per family from its training rows and assign the test sequences by best
    hmmsearch score. Returns (predicted class codes, -1 where no HMM hit; info)."""
    from core.families.hmm import best_family, build_hmm

    t0 = time.perf_counter()
    train = table[table["split"] == "train"]
    hmms = {}
    for k, name in enumerate(names):
        rows = train[train["family"] == name]
        hmms[name] = build_hmm(name, rows["aligned"].tolist(), ids=rows["id"].tolist())
        if on_built:
            on_built(k + 1, len(names))
    build_s = time.perf_counter() - t0
    test = table[table["split"] == "test"]
    pred, _ = best_family(hmms, test["sequence"].tolist(), cpus=cpus)
    code = {n: i for i, n in enumerate(names)}
    y = np.array([code[p] if p is not None else -1 for p in pred], dtype=np.int64)
    return y, {"build_s": round(build_s, 2), "seconds": round(time.perf_counter() - t0, 2),
               "no_hit": int((y < 0).sum())}


def kmer_logreg(table: pd.DataFrame, y: np.ndarray, *, k: int = 3, seed: int = 0
                ) -> tuple[np.ndarray, dict]:
    """Counts of overlapping k-mers (TF-IDF) -> multinomial logistic regression, trained on
    the train split, predicting the test split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    is_train = (table["split"] == "train").to_numpy()
    is_test = (table["split"] == "test").to_numpy()
    vec = TfidfVectorizer(analyzer="char", ngram_range=(k, k), lowercase=False)
    xtr = vec.fit_transform(table.loc[is_train, "sequence"])
    clf = LogisticRegression(max_iter=2000, C=10.0, random_state=seed).fit(xtr, y[is_train])
    pred = clf.predict(vec.transform(table.loc[is_test, "sequence"]))
    return pred.astype(np.int64), {"seconds": round(time.perf_counter() - t0, 2), "k": k}
