"""Per-residue saliency of a property model (seed 000, Fig. 4): what the encoder looks at.

Three attribution methods, all per residue, batched, on the model's device (GPU when present):

- ``ig``: integrated gradients (Captum) on the residue-embedding vectors, from a baseline the
  user picks: ``padding`` (all-zero embeddings, what padding embeds to), ``parent`` (the parent
  sequence's embeddings, cut or zero-padded to the protein's length) or ``composition`` (every
  position gets the protein's composition-weighted mean residue embedding);
- ``gradxinput``: gradient x input on the same embedding vectors (Captum ``InputXGradient``);
- ``maxpool``: the paper's "importance for the max-pooled features": each of the 512 pooled
  features is won by one position; its weight, gradient x value of the target at the pooled
  layer, is spread evenly over the residues that the winning filter sees.

Targets: ``property`` (the GP predictive mean, computed in torch from the saved read-out, so
gradients run through the encoder into the GP), ``embedding_dim`` (one coordinate of the
L2-normalised embedding) or ``distance`` (Euclidean distance to a reference protein's
embedding). Scores are summed over the embedding width, then normalised per protein:
``signed`` = score / max |score| and ``absolute`` = |score| / max |score|.

Captum is imported inside the functions that use it, so ``import core`` stays fast.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from core.config import check_choice

METHODS = ("ig", "gradxinput", "maxpool")
BASELINES = ("padding", "parent", "composition")
TARGETS = ("property", "embedding_dim", "distance")


@dataclass(frozen=True)
class SaliencyConfig:
    """What to attribute and how.

    Attributes
    ----------
    method : one of :data:`METHODS` (default the paper's max-pool importance).
    baseline : integrated-gradients baseline, one of :data:`BASELINES`.
    target : one of :data:`TARGETS`.
    dim : the embedding coordinate for ``target="embedding_dim"``.
    n_steps : integrated-gradients steps (Gauss-Legendre).
    internal_batch_size : rows of one forward/backward pass of integrated gradients.
    """

    method: str = "maxpool"
    baseline: str = "padding"
    target: str = "property"
    dim: int = 0
    n_steps: int = 64
    internal_batch_size: int = 128

    def __post_init__(self):
        check_choice("method", self.method, METHODS)
        check_choice("baseline", self.baseline, BASELINES)
        check_choice("target", self.target, TARGETS)
        if self.n_steps < 2 or self.internal_batch_size < 1 or self.dim < 0:
            raise ValueError("n_steps >= 2, internal_batch_size >= 1 and dim >= 0 please")


# --------------------------------------------------------------------------- GP mean in torch


def _kernel_parts(kernel) -> list[tuple[float, float, int | None, int | None]]:
    """(amplitude, length scale, start, stop) of every ``Constant * Matern`` term of a
    fitted read-out kernel (see :func:`core.tasks.readouts._kernel`); white noise is skipped
    because it adds nothing between a new row and the training rows."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, Product, Sum

    from core.tasks.readouts import OnColumns

    if isinstance(kernel, Sum):
        return _kernel_parts(kernel.k1) + _kernel_parts(kernel.k2)
    if isinstance(kernel, Product) and isinstance(kernel.k1, ConstantKernel):
        inner, start, stop = kernel.k2, None, None
        if isinstance(inner, OnColumns):
            inner, start, stop = inner.kernel, inner.start, inner.stop
        if not isinstance(inner, Matern) or inner.nu != 2.5 or np.ndim(inner.length_scale):
            raise ValueError(f"saliency supports isotropic Matern 5/2 read-outs, not {inner!r}")
        return [(float(kernel.k1.constant_value), float(inner.length_scale), start, stop)]
    return []  # WhiteKernel


class TorchGPMean(torch.nn.Module):
    """The predictive mean of a fitted :class:`core.tasks.readouts.GPReadout`, differentiable.

    ``forward(cnn, extra)`` takes the encoder block (B, F0) unscaled and the other blocks'
    stacked, already scaled columns (B, F_rest) (constants for the encoder) and returns (B,).
    """

    def __init__(self, readout):
        super().__init__()
        gp = readout.gp_
        self.scale = float(readout.scales_[0])
        self.parts = _kernel_parts(gp.kernel_)
        self.register_buffer("x_train", torch.as_tensor(gp.X_train_, dtype=torch.float64))
        self.register_buffer("alpha", torch.as_tensor(np.ravel(gp.alpha_), dtype=torch.float64))
        self.y_mean = float(np.ravel(gp._y_train_mean)[0])
        self.y_std = float(np.ravel(gp._y_train_std)[0])

    def forward(self, cnn: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        x = cnn.to(torch.float64) / self.scale
        if extra is not None and extra.shape[1]:
            x = torch.cat([x, extra.to(x)], dim=1)
        k = x.new_zeros(x.shape[0], self.x_train.shape[0])
        for amp, length, start, stop in self.parts:
            a = x[:, start:stop] / length
            b = self.x_train[:, start:stop] / length
            # sqrt(d^2 + tiny): Matern 5/2 is smooth at r = 0, sqrt's autograd is not.
            r = torch.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) + 1e-18)
            s = math.sqrt(5.0) * r
            k = k + amp * (1.0 + s + s * s / 3.0) * torch.exp(-s)
        return (k @ self.alpha) * self.y_std + self.y_mean


# --------------------------------------------------------------------------- forward pieces


def pool_embedded(encoder, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """:meth:`TripletCNNEncoder.pool` from residue embeddings x (B, L, E); mask (B, L)."""
    h = x.transpose(1, 2)  # (B, E, L)
    feats = [h]
    for conv, k in zip(encoder.convs, encoder.config.kernel_sizes, strict=True):
        left = (k - 1) // 2
        feats.append(F.relu(conv(F.pad(h, (left, k - 1 - left)))))
    h = torch.cat(feats, dim=1).masked_fill(~mask[:, None, :], float("-inf"))  # (B, C, L)
    return h.amax(dim=2)  # (B, C)


@dataclass
class _Target:
    """What one encoder contributes: ``fn(pooled (B, C), extra (B, F)) -> (B,)``.

    ``extra`` holds per-protein constants (the read-out's one-hot / BLOSUM columns); it is
    passed alongside the input so Captum repeats and chunks it with the interpolated rows.
    """

    encoder: torch.nn.Module
    fn: object
    extra: torch.Tensor
    weight: float = 1.0


def _targets(model, config: SaliencyConfig, sequences: Sequence[str],
             aligned: Sequence[str] | None, reference: str | None) -> list[_Target]:
    """One target per encoder whose weighted sum is the quantity explained."""
    from core.tasks.property_model import profile_features

    encoders = model.encoders_
    none = torch.zeros((len(sequences), 0), dtype=torch.float64, device=_device(encoders[0]))
    if config.target == "embedding_dim":
        enc = encoders[0]
        if config.dim >= enc.config.out_dim:
            raise ValueError(f"dim {config.dim} >= embedding width {enc.config.out_dim}")
        return [_Target(enc, lambda p, x, e=enc: e.head(p)[:, config.dim], none)]
    if config.target == "distance":
        if not reference:
            raise ValueError("target 'distance' needs a reference sequence")
        enc = encoders[0]
        ref = torch.as_tensor(model.embed([reference]), device=_device(enc))  # (1, D)
        return [_Target(enc, lambda p, x, e=enc: (e.head(p) - ref).norm(dim=1), none)]
    # property: the GP mean of each encoder's read-out, averaged (the seed-ensemble mixture).
    cfg = model.config
    kinds = cfg.readout.split("+")[1:]
    rows = list(aligned if aligned is not None else sequences)
    share = 1.0 / (len(encoders) * (1 + len(getattr(model, "committee_", {}) or {})))
    out = []
    for enc, readout in zip(encoders, model.readouts_, strict=True):
        gp = TorchGPMean(readout).to(_device(enc))
        blocks = [profile_features(rows, kind, model.width_) / scale
                  for kind, scale in zip(kinds, readout.scales_[1:], strict=True)]
        extra = torch.as_tensor(np.hstack(blocks) if blocks else np.zeros((len(rows), 0)),
                                dtype=torch.float64, device=_device(enc))
        pooled_input = cfg.readout.startswith("pooled")

        def fn(p, x, e=enc, g=gp, pooled_input=pooled_input):
            return g(p if pooled_input else e.head(p), x)

        out.append(_Target(enc, fn, extra, share))
    return out


def _device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _baseline(encoder, tokens: torch.Tensor, x: torch.Tensor, kind: str,
              parent: str | None) -> torch.Tensor:
    """Baseline embeddings (B, L, E); zero at padding so padding stays padding."""
    from core.alphabet import tokenize

    mask = (tokens != 0)[..., None]
    if kind == "padding":
        return torch.zeros_like(x)
    if kind == "composition":
        counts = torch.stack([torch.bincount(t[t != 0], minlength=encoder.embed.num_embeddings)
                              for t in tokens]).to(x)  # (B, V)
        comp = counts / counts.sum(1, keepdim=True).clamp_min(1)
        mean = comp @ encoder.embed.weight  # (B, E)
        return mean[:, None, :].expand_as(x) * mask
    if not parent:
        raise ValueError("baseline 'parent' needs the parent sequence")
    ptok = torch.as_tensor(tokenize([parent], pad_to=max(len(parent), x.shape[1])),
                           device=x.device)[:, : x.shape[1]]
    with torch.no_grad():
        base = encoder.embed(ptok)  # (1, L, E)
    return base.expand_as(x) * mask


# --------------------------------------------------------------------------- attribution


def _spread_maxpool(encoder, h: torch.Tensor, weight: torch.Tensor, length: int) -> np.ndarray:
    """Per-residue sums (L,) of channel weights, each spread over its winner's receptive field.

    h: (C, L) pre-pool features of one protein; weight: (C,).
    """
    cfg = encoder.config
    win = h[:, :length].argmax(dim=1).cpu().numpy()  # (C,)
    w = weight.detach().cpu().numpy().astype(np.float64)
    out = np.zeros(length)
    spans = [(1, 0)] * cfg.embed_dim
    for k in cfg.kernel_sizes:
        spans += [(k, (k - 1) // 2)] * cfg.n_filters
    for c, (k, left) in enumerate(spans):
        lo = win[c] - left
        pos = np.arange(max(lo, 0), min(lo + k, length))
        if len(pos):
            out[pos] += w[c] / k
    return out


def _maxpool_scores(target: _Target, tokens: torch.Tensor, lengths: list[int]) -> list[np.ndarray]:
    enc = target.encoder
    x = enc.embed(tokens).detach()
    mask = tokens != 0
    h = x.transpose(1, 2)
    feats = [h] + [F.relu(conv(F.pad(h, ((k - 1) // 2, k - 1 - (k - 1) // 2))))
                   for conv, k in zip(enc.convs, enc.config.kernel_sizes, strict=True)]
    full = torch.cat(feats, dim=1).masked_fill(~mask[:, None, :], float("-inf"))  # (B, C, L)
    pooled = full.amax(dim=2).detach().requires_grad_(True)
    value = target.fn(pooled, target.extra)
    (grad,) = torch.autograd.grad(value.sum(), pooled)
    weight = grad * pooled * target.weight  # gradient x value at the pooled layer
    return [_spread_maxpool(enc, full[i].detach(), weight[i], n) for i, n in enumerate(lengths)]


def _embedding_scores(target: _Target, tokens: torch.Tensor, lengths: list[int],
                      config: SaliencyConfig, parent: str | None
                      ) -> tuple[list[np.ndarray], np.ndarray]:
    from captum.attr import InputXGradient, IntegratedGradients

    enc = target.encoder
    mask = tokens != 0
    x = enc.embed(tokens).detach()  # (B, L, E)

    def forward(emb, m, extra):
        return target.fn(pool_embedded(enc, emb, m), extra) * target.weight

    args = (mask, target.extra)
    if config.method == "gradxinput":
        attr = InputXGradient(forward).attribute(x.requires_grad_(True),
                                                 additional_forward_args=args)
        delta = np.full(len(lengths), np.nan)
    else:
        base = _baseline(enc, tokens, x, config.baseline, parent)
        attr, d = IntegratedGradients(forward).attribute(
            x, baselines=base, additional_forward_args=args, n_steps=config.n_steps,
            internal_batch_size=config.internal_batch_size, return_convergence_delta=True)
        delta = d.detach().cpu().numpy()
    per_res = attr.sum(dim=2).detach().cpu().numpy()  # (B, L)
    return [per_res[i, :n].astype(np.float64) for i, n in enumerate(lengths)], delta


def _normalise(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = float(np.max(np.abs(score))) if score.size else 0.0
    top = top if top > 0 else 1.0
    return score / top, np.abs(score) / top


def compute_saliency(model, sequences: Sequence[str], *, ids: Sequence[str] | None = None,
                     config: SaliencyConfig | None = None, aligned: Sequence[str] | None = None,
                     parent: str | None = None, reference: str | None = None,
                     batch_size: int = 16) -> pd.DataFrame:
    """Per-residue saliency of proteins under a fitted property model.

    Parameters
    ----------
    model : core.tasks.property_model.PropertyModel
        Fitted (or loaded from a run with :func:`core.tasks.property.load_property_model`).
    sequences : N gap-free sequences (what the CNN reads).
    ids : N names (default ``p0, p1, ...``).
    config : SaliencyConfig
    aligned : the profile rows of the one-hot / BLOSUM read-out blocks, when the model has them.
    parent : parent sequence for ``baseline="parent"``.
    reference : reference sequence for ``target="distance"``.
    batch_size : proteins per forward/backward pass.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per residue: ``id, position`` (1-based), ``residue, score`` (raw,
        in target units for ``ig``/``gradxinput``), ``signed``, ``absolute`` (normalised per
        protein) and ``delta`` (integrated-gradients completeness error of that protein; NaN
        for the other methods).
    """
    from core.alphabet import tokenize

    config = config or SaliencyConfig()
    sequences = [str(s) for s in sequences]
    ids = [str(i) for i in ids] if ids is not None else [f"p{i}" for i in range(len(sequences))]
    if len(ids) != len(sequences):
        raise ValueError(f"{len(ids)} ids for {len(sequences)} sequences")
    frames = []
    for start in range(0, len(sequences), batch_size):
        chunk = sequences[start:start + batch_size]
        rows = None if aligned is None else list(aligned)[start:start + batch_size]
        lengths = [len(s) for s in chunk]
        targets = _targets(model, config, chunk, rows, reference)
        total = [np.zeros(n) for n in lengths]
        delta = np.zeros(len(chunk))
        for target in targets:
            was_training = target.encoder.training
            target.encoder.eval()
            tokens = torch.as_tensor(tokenize(chunk), device=_device(target.encoder))
            if config.method == "maxpool":
                scores, d = _maxpool_scores(target, tokens, lengths), np.full(len(chunk), np.nan)
            else:
                scores, d = _embedding_scores(target, tokens, lengths, config, parent)
            target.encoder.train(was_training)
            total = [t + s for t, s in zip(total, scores, strict=True)]
            delta = delta + d
        for name, seq, score, dl in zip(ids[start:], chunk, total, delta, strict=False):
            signed, absolute = _normalise(score)
            frames.append(pd.DataFrame({
                "id": name, "position": np.arange(1, len(seq) + 1), "residue": list(seq),
                "score": score, "signed": signed, "absolute": absolute, "delta": dl}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["id", "position", "residue", "score", "signed", "absolute", "delta"])


def target_values(model, sequences: Sequence[str], *, config: SaliencyConfig | None = None,
                  aligned: Sequence[str] | None = None, reference: str | None = None
                  ) -> np.ndarray:
    """The explained quantity itself (N,), computed the way the attributions see it (for the
    property target: the CNN part of the GP mean; committee GPs add a constant per protein)."""
    from core.alphabet import tokenize

    config = config or SaliencyConfig()
    total = np.zeros(len(sequences))
    with torch.no_grad():
        for target in _targets(model, config, list(sequences), aligned, reference):
            tokens = torch.as_tensor(tokenize(list(sequences)), device=_device(target.encoder))
            pooled = target.encoder.pool(tokens)
            total += target.fn(pooled, target.extra).double().cpu().numpy() * target.weight
    return total


def randomized_copy(model, *, seed: int = 0):
    """The same model with every encoder's weights re-drawn from their initialisation (the
    read-out is kept): the model-randomisation control of Adebayo et al. (2018)."""
    out = copy.copy(model)
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        encoders = []
        for enc in model.encoders_:
            fresh = copy.deepcopy(enc)
            for module in fresh.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            encoders.append(fresh.eval())
    finally:
        torch.random.set_rng_state(gen_state)
    out.encoders_ = encoders
    return out
