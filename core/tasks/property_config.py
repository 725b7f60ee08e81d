"""The configuration of a property model (:class:`PropertyConfig`) and its choices.

Kept apart from :mod:`core.tasks.property_model` so that the CLI, the bench and the page can
build and validate a configuration without importing the estimator.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from core.config import check_choice
from core.models.triplet_cnn import TripletCNNConfig
from core.tasks.label_scale import MERGES, SCALES, TRENDS
from core.tasks.property_train import TrainConfig

READOUTS = ("embedding", "pooled", "embedding+onehot", "embedding+blosum", "pooled+onehot",
            "embedding+onehot+blosum")
INPUTS = ("auto", "sequence", "aligned")
COMMITTEE_KERNELS = ("matern", "linear+matern", "auto")


@dataclass(frozen=True)
class PropertyConfig:
    """Everything that decides a property model (saved in the run as ``asdict(config)``).

    Attributes
    ----------
    encoder : the CNN architecture (paper defaults).
    train : the training recipe (objective, margin, mining, early stopping...).
    readout : features the GP reads: the final ``embedding`` or the 512 ``pooled`` features,
        optionally with one-hot and/or BLOSUM62-profile blocks of the (aligned) rows; each block
        gets its own Matérn kernel and amplitude.
    gp_holdout : tune the GP hyper-parameters to predict the encoder's validation rows (which
        it did not train on) instead of by the marginal likelihood of rows it fitted (see
        :meth:`core.tasks.readouts.GPReadout.fit`).
    n_models : encoders trained with seeds ``seed, seed+1, ...``; their GP predictions are
        pooled as an equal mixture (a seed ensemble).
    committee : also fit a GP on one-hot rows and one on BLOSUM62-profile rows and predict with
        the equal mixture of {CNN ensemble, one-hot GP, BLOSUM GP}.
    committee_kernel : the committee GPs' kernel: ``matern`` (Matérn 5/2 + white noise, as the
        baselines) or ``linear+matern`` (plus a linear term: additive per-residue effects,
        with the Matérn term for the rest; on the columns that vary among the training rows;
        chosen by inner CV on the training rows) or ``auto`` (the one of the two with the
        lower inner CV MAE, chosen jointly with an ``auto`` label scale, merging and trend).
    label_scale : the scale every GP read-out fits the labels on: ``none``, ``log`` (positive
        labels; multiplicative effects become additive) or ``auto`` (the one of the two with
        the lower inner-CV MAE on the training rows, importance-weighted by the number of
        mutations of the rows to be predicted when known; :mod:`core.tasks.label_scale`).
        Encoders always train on the labels as given; predictions come back on that scale.
    merge_columns : whether the committee's one-hot GP reads columns identical across the
        training rows (a chimera block) as one: ``no``, ``yes`` or ``auto`` (chosen by the same
        inner CV, jointly with an ``auto`` label scale).
    label_trend : the GPs' prior mean: the training mean (``none``), a least-squares line in
        the distance to the nearest parent (``distance``: the training rows with ``m == 0``;
        a GP reverts rows unlike the training rows to its mean, a trend extrapolates along
        the number of mutations), or ``auto`` (chosen by the same inner CV). Needs ``m``.
    input : what the CNN reads: the gap-free ``sequence``, the ``aligned`` rows, or ``auto``
        (gap-free; see :func:`choose_input`).
    gp_restarts : extra random starts of the GP optimiser.
    baselines : also fit the comparison models (one-hot GP, BLOSUM GP, ridge, MSE CNN + GP).
    seed : seeds encoders, validation split, batches and GP restarts.
    """

    encoder: TripletCNNConfig = field(default_factory=TripletCNNConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    readout: str = "embedding"
    n_models: int = 3
    committee: bool = False
    committee_kernel: str = "matern"
    gp_holdout: bool = False
    label_scale: str = "none"
    merge_columns: str = "no"
    label_trend: str = "none"
    input: str = "auto"
    gp_restarts: int = 3
    baselines: bool = False
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.encoder, dict):
            object.__setattr__(self, "encoder", TripletCNNConfig(**self.encoder))
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainConfig(**self.train))
        check_choice("readout", self.readout, READOUTS)
        check_choice("input", self.input, INPUTS)
        check_choice("committee_kernel", self.committee_kernel, COMMITTEE_KERNELS)
        check_choice("label_scale", self.label_scale, SCALES)
        check_choice("merge_columns", self.merge_columns, MERGES)
        check_choice("label_trend", self.label_trend, TRENDS)
        if self.n_models < 1 or self.gp_restarts < 0:
            raise ValueError("n_models >= 1 and gp_restarts >= 0 please")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PropertyConfig:
        """Inverse of ``asdict``; unknown keys are refused (a typo should not pass silently)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown PropertyConfig fields: {sorted(unknown)}")
        return cls(**data)

    def with_train(self, **changes: Any) -> PropertyConfig:
        """A copy with some training fields changed (``dataclasses.replace`` on ``train``)."""
        return replace(self, train=replace(self.train, **changes))


def choose_input(config: PropertyConfig, has_aligned: bool) -> str:
    """Which column the CNN reads. ``auto`` is the gap-free sequence: max pooling makes the CNN
    alignment-free, and gap-free input lets a saved model embed any new sequence as typed."""
    if config.input == "aligned" and not has_aligned:
        raise ValueError("input='aligned' needs an 'aligned' column")
    return "aligned" if config.input == "aligned" else "sequence"
