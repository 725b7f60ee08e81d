"""In-silico mutagenesis: every single substitution of a protein through a property model.

All L x 19 variants go through the encoder in one batched pass (:func:`mutant_pooled`): a
substitution at i changes the convolutions' pre-activations only at the k positions whose
window covers i, by ``W[:, :, j] @ (e_mt - e_wt)``; the max pool of a mutant is the larger of
the wild type's maximum outside those positions (prefix/suffix maxima) and the new values
inside. This is exact (the same numbers as embedding each mutant) and costs about
L x 19 x 9 x 512 operations instead of L x 19 full forward passes. The pooled features then
go through the GP read-out for a predictive mean and standard deviation. Suggestions are ranked by expected
improvement (EI) over the wild type or by an upper confidence bound (UCB).
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from core.alphabet import AA20
from core.config import check_choice
from core.mutations import Mutation

ACQUISITIONS = ("ei", "ucb")


def single_mutants(sequence: str, *, aligned: str | None = None
                   ) -> tuple[list[Mutation], list[str], list[str] | None]:
    """Every single substitution of ``sequence`` to another of the 20 amino acids.

    Returns the mutations (position-major, then :data:`AA20` order), the mutant sequences and,
    when ``aligned`` (the protein's alignment row) is given, the mutant alignment rows.
    Positions holding a non-standard letter are skipped.
    """
    seq = sequence.upper()
    columns = None
    if aligned is not None:
        columns = [c for c, ch in enumerate(aligned) if ch not in "-."]
        if len(columns) != len(seq):
            raise ValueError(f"the aligned row has {len(columns)} residues, the sequence "
                             f"{len(seq)}")
    muts, seqs, rows = [], [], [] if aligned is not None else None
    for i, wt in enumerate(seq):
        if wt not in AA20:
            continue
        for mt in AA20:
            if mt == wt:
                continue
            muts.append(Mutation(i + 1, wt, mt))
            seqs.append(seq[:i] + mt + seq[i + 1:])
            if rows is not None:
                c = columns[i]
                rows.append(aligned[:c] + mt + aligned[c + 1:])
    return muts, seqs, rows


def _prefix_suffix_max(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Running maxima of h (C, L) from the left and from the right, each (C, L)."""
    return torch.cummax(h, dim=1).values, torch.cummax(h.flip(1), dim=1).values.flip(1)


def _outside_max(prefix: torch.Tensor, suffix: torch.Tensor, lo: torch.Tensor,
                 hi: torch.Tensor) -> torch.Tensor:
    """Per position i: max over columns outside [lo_i, hi_i] (clipped), (L, C)."""
    n = prefix.shape[1]
    ninf = prefix.new_full((prefix.shape[0], 1), float("-inf"))
    pre = torch.cat([ninf, prefix], dim=1)  # pre[:, t] = max of columns < t
    suf = torch.cat([suffix, ninf], dim=1)  # suf[:, t] = max of columns >= t
    left = pre[:, lo.clamp(0, n)]  # (C, L)
    right = suf[:, (hi + 1).clamp(0, n)]
    return torch.maximum(left, right).T


@torch.no_grad()
def mutant_pooled(encoder, sequence: str, letters: str = AA20) -> torch.Tensor:
    """Max-pooled features (L, 20, C) of every single substitution of ``sequence`` to each of
    ``letters`` (the wild-type letter gives the wild type itself), exactly as
    :meth:`TripletCNNEncoder.pool` would compute them one by one."""
    from core.alphabet import tokenize

    dev = next(encoder.parameters()).device
    tokens = torch.as_tensor(tokenize([sequence])[0], device=dev)  # (L,)
    n = len(tokens)
    pos = torch.arange(n, device=dev)
    letter_tok = torch.as_tensor(tokenize([letters])[0], device=dev)  # (A,)
    table = encoder.embed.weight  # (V, E)
    x = table[tokens]  # (L, E)
    # Embedding channels: only position i changes.
    emb = x.T  # (E, L)
    pre_e, suf_e = _prefix_suffix_max(emb)
    outside = _outside_max(pre_e, suf_e, pos, pos)  # (L, E)
    parts = [torch.maximum(outside[:, None, :], table[letter_tok][None, :, :])]  # (L, A, E)
    h = x.T[None]  # (1, E, L)
    for conv, k in zip(encoder.convs, encoder.config.kernel_sizes, strict=True):
        left = (k - 1) // 2
        pre = conv(F.pad(h, (left, k - 1 - left)))[0]  # (F, L) pre-activation
        post = F.relu(pre)
        lo, hi = pos + left - k + 1, pos + left  # outputs whose window covers i
        outside = _outside_max(*_prefix_suffix_max(post), lo, hi)  # (L, F)
        # D[j, a] = W[:, :, j] @ e_a: the contribution of letter a at window offset j.
        d_new = torch.einsum("fej,ae->jaf", conv.weight, table[letter_tok])  # (k, A, F)
        d_old = torch.einsum("fej,le->jlf", conv.weight, x)  # (k, L, F)
        best = outside[:, None, :].expand(n, len(letters), -1).clone()  # (L, A, F)
        for j in range(k):
            p = pos + left - j  # output position where i sits at offset j
            ok = (p >= 0) & (p < n)
            pc = p.clamp(0, n - 1)
            val = F.relu(pre[:, pc].T[:, None, :] + d_new[j][None] - d_old[j][:, None, :])
            val = torch.where(ok[:, None, None], val, torch.full_like(val, float("-inf")))
            best = torch.maximum(best, val)
        parts.append(best)
    return torch.cat(parts, dim=2)  # (L, A, C)


def acquisition(mean: np.ndarray, std: np.ndarray, *, kind: str = "ei", incumbent: float,
                weight: float = 0.0, maximize: bool = True) -> np.ndarray:
    """Expected improvement over ``incumbent`` (``weight`` = the margin xi, in label units) or
    the upper confidence bound ``mean + weight * std`` (``weight`` = kappa). For ``maximize=
    False`` both are computed on the negated property, so higher is always better."""
    from scipy.stats import norm

    check_choice("kind", kind, ACQUISITIONS)
    sign = 1.0 if maximize else -1.0
    mu, sd = sign * np.asarray(mean, float), np.asarray(std, float)
    if kind == "ucb":
        return mu + weight * sd
    gain = mu - sign * incumbent - weight
    sd_safe = np.maximum(sd, 1e-12)
    z = gain / sd_safe
    return np.where(sd > 1e-12, gain * norm.cdf(z) + sd_safe * norm.pdf(z), np.maximum(gain, 0))


def mutagenesis(model, sequence: str, *, aligned: str | None = None) -> tuple[pd.DataFrame,
                                                                                dict]:
    """Predicted property of every single mutant of ``sequence``.

    Parameters
    ----------
    model : PropertyModel (fitted or loaded)
    sequence : the wild type (gap-free).
    aligned : its alignment row, needed when the read-out has a one-hot / BLOSUM block.

    Returns
    -------
    table : DataFrame ``mutation`` (W122A), ``position, wt, mt, mean, std, delta`` (mean minus
        the wild type's), one row per variant.
    info : ``wild_type_mean, wild_type_std, n_variants, seconds``.
    """
    t0 = time.perf_counter()
    muts, seqs, rows = single_mutants(sequence, aligned=aligned)
    wt_rows = None if aligned is None else [aligned]
    wt_mean, wt_std = model.predict([sequence], aligned=wt_rows)
    mean, std = np.zeros(0), np.zeros(0)
    if seqs:
        index = {a: i for i, a in enumerate(AA20)}
        i = np.asarray([m.position - 1 for m in muts])
        a = np.asarray([index[m.mt] for m in muts])
        features = []
        with torch.no_grad():
            for enc in model.encoders_:
                pooled = mutant_pooled(enc, sequence.upper())[i, a]  # (N, C)
                features.append((pooled.float().cpu().numpy(),
                                 enc.head(pooled).float().cpu().numpy()))
        mean, std = model.predict(seqs, aligned=rows, features=features)
    table = pd.DataFrame({"mutation": [str(m) for m in muts],
                          "position": [m.position for m in muts],
                          "wt": [m.wt for m in muts], "mt": [m.mt for m in muts],
                          "mean": mean, "std": std, "delta": mean - wt_mean[0]})
    info = {"wild_type_mean": float(wt_mean[0]), "wild_type_std": float(wt_std[0]),
            "n_variants": len(seqs), "seconds": time.perf_counter() - t0}
    return table, info


def rank_mutants(table: pd.DataFrame, *, kind: str = "ei", weight: float = 0.0,
                 maximize: bool = True, incumbent: float, top: int | None = None
                 ) -> pd.DataFrame:
    """The mutagenesis table with ``score`` (EI or UCB) and ``rank`` (1 = make first)."""
    out = table.copy()
    out["score"] = acquisition(out["mean"].to_numpy(), out["std"].to_numpy(), kind=kind,
                               incumbent=incumbent, weight=weight, maximize=maximize)
    out = out.sort_values(["score", "mean"], ascending=[False, not maximize], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return (out.head(top) if top else out).reset_index(drop=True)


def heatmap_matrix(table: pd.DataFrame, sequence: str, *, value: str = "mean",
                   wild: float = np.nan, alphabet: Sequence[str] = AA20) -> np.ndarray:
    """(20, L) matrix of ``value`` by mutant residue (rows, :data:`AA20`) and position
    (columns); wild-type cells hold ``wild`` (e.g. the wild type's own mean, or 0 for
    ``delta``), NaN where nothing was predicted."""
    letters = list(alphabet)
    index = {a: i for i, a in enumerate(letters)}
    mat = np.full((len(letters), len(sequence)), np.nan)
    for pos, wt in enumerate(sequence.upper()):
        if wt in index:
            mat[index[wt], pos] = wild
    mat[[index[m] for m in table["mt"]], table["position"].to_numpy() - 1] = table[value]
    return mat
