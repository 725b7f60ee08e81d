"""Progress events: how long-running core functions report without knowing who listens."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a long computation.

    ``stage`` names the phase ("train", "embed", "gp", ...), ``step`` counts from 0 to ``total``
    within it, and ``metrics`` carries numbers worth showing (loss, validation MAE...).
    ``message`` is a human sentence for the log.
    """

    stage: str
    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.step / self.total))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[ProgressEvent], None]


def report(callback: ProgressCallback | None, stage: str, step: int, total: int,
           message: str = "", **metrics: float) -> None:
    """Send an event if someone listens; the one-liner every fit loop uses."""
    if callback is not None:
        callback(ProgressEvent(stage, step, total, {k: float(v) for k, v in metrics.items()},
                               message))
