"""Evaluation of a protein–text model on held-out proteins (seed 003's metrics and more).

Scores are cosines s(text, protein) of the unit embeddings.

* Hard: every twin pair with both proteins held out and different texts gives two cases,
  (text_a, a vs b) and (text_b, b vs a); *strict* keeps ``different_phenotype`` pairs.
* Easy: each held-out protein against a random held-out protein with another text (seeded).
* Pairwise accuracy = Pr(s_pos > s_neg), with its binomial standard error.
* Precision / recall / F1 treat s_pos as positives and s_neg as negatives: at the threshold
  maximising F1 on these very scores (the seed's sweep; optimistic), and at the threshold
  fixed on validation proteins the same way (the honest figure).
* Retrieval over the held-out proteins: text -> protein (queries: distinct held-out texts, a
  hit is any protein with that text) and protein -> text (queries: proteins, gallery: the
  distinct held-out texts); recall@1, recall@10 and MRR.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _se(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def hard_cases(P: np.ndarray, Q: np.ndarray, text_ids: np.ndarray, twins: pd.DataFrame,
               rows: np.ndarray) -> pd.DataFrame:
    """One row per (anchor text, protein, twin): a, b, s_pos, s_neg, strict."""
    from core.tasks.text_data import pairs_within

    inside = pairs_within(twins, rows)
    a, b = inside["a"].to_numpy(), inside["b"].to_numpy()
    keep = text_ids[a] != text_ids[b]
    a, b = a[keep], b[keep]
    strict = (inside["phenotype_relation"].to_numpy()[keep] == "different_phenotype"
              if "phenotype_relation" in inside else np.zeros(len(a), bool))
    anchor = np.concatenate([a, b])
    other = np.concatenate([b, a])
    t = text_ids[anchor]
    return pd.DataFrame({"kind": "hard", "a": anchor, "b": other,
                         "s_pos": np.einsum("ij,ij->i", Q[t], P[anchor]),
                         "s_neg": np.einsum("ij,ij->i", Q[t], P[other]),
                         "strict": np.concatenate([strict, strict])})


def easy_cases(P: np.ndarray, Q: np.ndarray, text_ids: np.ndarray, rows: np.ndarray, *,
               seed: int = 0) -> pd.DataFrame:
    """Each protein in ``rows`` against a random one of ``rows`` with a different text."""
    rng = np.random.default_rng(seed)
    anchor, other = [], []
    for i in rows:
        cand = rows[text_ids[rows] != text_ids[i]]
        if len(cand):
            anchor.append(i)
            other.append(int(rng.choice(cand)))
    anchor, other = np.asarray(anchor, dtype=np.int64), np.asarray(other, dtype=np.int64)
    t = text_ids[anchor]
    return pd.DataFrame({"kind": "easy", "a": anchor, "b": other,
                         "s_pos": np.einsum("ij,ij->i", Q[t], P[anchor]) if len(t) else [],
                         "s_neg": np.einsum("ij,ij->i", Q[t], P[other]) if len(t) else [],
                         "strict": False})


def threshold_sweep(s_pos: np.ndarray, s_neg: np.ndarray) -> pd.DataFrame:
    """Precision, recall and F1 at every distinct score used as threshold (predict s >= tau)."""
    scores = np.concatenate([s_pos, s_neg])
    labels = np.concatenate([np.ones(len(s_pos)), np.zeros(len(s_neg))])
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    tp = np.cumsum(labels)
    fp = np.cumsum(1 - labels)
    last = np.r_[scores[1:] != scores[:-1], True]  # one row per distinct threshold
    tp, fp, tau = tp[last], fp[last], scores[last]
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(len(s_pos), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall /
                  np.maximum(precision + recall, 1e-12), 0.0)
    return pd.DataFrame({"tau": tau, "precision": precision, "recall": recall, "f1": f1})


def prf_at(s_pos: np.ndarray, s_neg: np.ndarray, tau: float) -> dict:
    tp = float((s_pos >= tau).sum())
    fp = float((s_neg >= tau).sum())
    p = tp / max(tp + fp, 1)
    r = tp / max(len(s_pos), 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tau": float(tau)}


def best_threshold(cases: pd.DataFrame) -> dict:
    sweep = threshold_sweep(cases["s_pos"].to_numpy(), cases["s_neg"].to_numpy())
    if sweep.empty:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tau": 0.0}
    best = sweep.iloc[int(sweep["f1"].to_numpy().argmax())]
    return {k: float(best[k]) for k in ("precision", "recall", "f1", "tau")}


def retrieval(P: np.ndarray, Q: np.ndarray, text_ids: np.ndarray, rows: np.ndarray) -> dict:
    """Recall@1/10 and MRR, text -> protein and protein -> text, over ``rows``."""
    out = {}
    tids = text_ids[rows]
    uniq = np.unique(tids)
    S = Q[uniq] @ P[rows].T  # (texts, proteins)
    hit = uniq[:, None] == tids[None, :]
    for name, scores, hits in (("", S, hit), ("p2t_", S.T, hit.T)):
        order = np.argsort(-scores, axis=1, kind="stable")
        ranked = np.take_along_axis(hits, order, 1)
        first = ranked.argmax(1) + 1  # 1-based rank of the first hit (every query has one)
        out[f"{name}recall_at_1"] = float((first <= 1).mean())
        out[f"{name}recall_at_10"] = float((first <= 10).mean())
        out[f"{name}mrr"] = float((1 / first).mean())
        out[f"{name}n_queries"] = int(len(first))
    return out


def _acc(cases: pd.DataFrame) -> tuple[float, float, int]:
    ok = (cases["s_pos"] > cases["s_neg"]).to_numpy(dtype=float)
    return (float(ok.mean()) if len(ok) else float("nan"), _se(ok), int(len(ok)))


def evaluate(P: np.ndarray, Q: np.ndarray, text_ids: np.ndarray, twins: pd.DataFrame,
             test_rows: np.ndarray, valid_rows: np.ndarray | None = None, *,
             seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """All metrics (flat dict) and the score table of every test case (for the plots)."""
    hard = hard_cases(P, Q, text_ids, twins, test_rows)
    easy = easy_cases(P, Q, text_ids, test_rows, seed=seed)
    metrics: dict = {}
    for name, cases in (("hard", hard), ("strict", hard[hard["strict"]]), ("easy", easy)):
        acc, se, n = _acc(cases)
        if n:
            metrics |= {f"pairwise_acc_{name}": acc, f"pairwise_acc_{name}_se": se}
        metrics[f"n_{name}"] = n
    for name, cases in (("hard", hard), ("easy", easy)):
        if len(cases):
            metrics |= {f"{k}_{name}": v for k, v in best_threshold(cases).items()}
    if valid_rows is not None and len(valid_rows) > 1:
        v_hard = hard_cases(P, Q, text_ids, twins, valid_rows)
        v_easy = easy_cases(P, Q, text_ids, valid_rows, seed=seed)
        for name, cases, v_cases in (("hard", hard, v_hard), ("easy", easy, v_easy)):
            if len(cases) and len(v_cases):
                tau = best_threshold(v_cases)["tau"]
                res = prf_at(cases["s_pos"].to_numpy(), cases["s_neg"].to_numpy(), tau)
                metrics |= {f"{k}_{name}_valtau": v for k, v in res.items()}
    if len(test_rows) > 1:
        metrics |= retrieval(P, Q, text_ids, test_rows)
    return metrics, pd.concat([hard, easy], ignore_index=True)
