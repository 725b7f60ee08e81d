"""Encoders served by saved runs (see :mod:`core.embedding`): property triplet CNN, SCAN features.

Each builder takes ``(store, run)`` and returns a :class:`RunEncoder`; nothing is retrained.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.progress import ProgressCallback


class RunEncoder:
    """A saved run as an encoder: ``embed`` new sequences, ``stored`` its own proteins.

    Parameters
    ----------
    run : the finished :class:`core.store.Run`.
    embed_fn : ``(list of sequences) -> (N, dim) array``, called in length-sorted batches.
    ids, features : what the run saved for its own proteins (same row order).
    """

    def __init__(self, run, embed_fn: Callable[[list[str]], np.ndarray], ids, features):
        self.run = run
        self.embed_fn = embed_fn
        self.ids = np.asarray(ids).astype(str)
        self.features = np.asarray(features, dtype=np.float32)

    @property
    def name(self) -> str:
        return f"run:{self.run.id}"

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def cache_key(self) -> str:
        return f"run-{self.run.id}-{(self.run.finished or '').replace(':', '')}"

    def stored(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ids, self.features

    def embed(self, sequences: list[str], *, batch_size: int = 256, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        from core.encoders import _run_batches

        return _run_batches(list(sequences), self.embed_fn, self.dim, batch_size=batch_size,
                            max_tokens=64 * 1024, on_progress=on_progress)


def property_encoder(store, run) -> RunEncoder:
    """The triplet CNN of a property run: its ``embedding`` features (the GP's input).

    A CNN trained on aligned rows (``summary["input"] == "aligned"``) expects aligned rows.
    """
    from core.tasks.property import load_property_model

    model = load_property_model(store, run.id)
    arrays = store.load_arrays(run.id)
    return RunEncoder(run, lambda seqs: model.embed(seqs), arrays["ids"], arrays["embedding"])


def scan_encoder(store, run) -> RunEncoder:
    """The sequence features a SCAN run clustered (its encoder, as the run used it)."""
    arrays = store.load_arrays(run.id)
    name = run.summary.get("encoder") or run.config.get("encoder", "near")
    encoder = _scan_feature_encoder(store, run, name)
    return RunEncoder(run, lambda seqs: encoder.embed(seqs), arrays["ids"], arrays["features"])


def _scan_feature_encoder(store, run, name: str):
    from core.encoders import get_encoder

    if name == "masked_lm":
        import torch

        from core.encoders import MaskedLMEncoder
        from core.models.masked_lm import MaskedLMConfig, MaskedResidueCNN

        state = store.load_weights(run.id)["masked_lm"]
        cfg = MaskedLMConfig()
        model = MaskedResidueCNN(cfg)
        model.load_state_dict({k: v for k, v in state.items() if isinstance(v, torch.Tensor)})
        enc = MaskedLMEncoder(cfg, seed=run.seed)
        enc.model_, enc.trained_on_ = model.eval(), run.id
        return enc
    enc = get_encoder(name)
    if name == "kmer":  # IDF and SVD were fitted on the run's data: fit them again on it
        enc.fit(_run_sequences(store, run))
    return enc


def _run_sequences(store, run) -> Sequence[str]:
    """The sequences a run was trained on, found by the data set's fingerprint."""
    from core.io_writers import dataset_fingerprint

    info = run.dataset or {}
    fingerprint = info.get("fingerprint")
    candidates = []
    if info.get("name"):
        try:
            from core import datasets

            candidates.append(datasets.load(info["name"], download=False))
        except Exception:  # not a built-in name, or not on this machine
            pass
    for kept in store.list_datasets():
        if fingerprint and kept.get("fingerprint") == fingerprint:
            candidates.append(store.load_dataset(kept["key"])[0])
    for table in candidates:
        if not fingerprint or dataset_fingerprint(table) == fingerprint or (
                len(table) == info.get("n")):
            return table["sequence"].astype(str).tolist()
    raise RuntimeError(f"run {run.id} used k-mer features fitted on its data set "
                       f"{info.get('name')!r}, which is not in this workspace; it can show its "
                       "own proteins but cannot embed new ones")
