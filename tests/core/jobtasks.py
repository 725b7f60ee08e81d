"""Small job functions the job tests run in real worker processes."""
from __future__ import annotations

import os
import signal
import time

import numpy as np

from core.jobs import RunResult
from core.progress import report


def quick(payload, ctx):
    values = np.asarray(payload["values"], dtype=float)
    for step in range(3):
        report(ctx.on_progress, "train", step + 1, 3, loss=1.0 / (step + 1))
    return RunResult(metrics={"mean": float(values.mean())},
                     history=[{"epoch": i, "loss": 1.0 / (i + 1)} for i in range(3)],
                     summary={"key_metric": {"name": "mean", "value": float(values.mean())}},
                     weights={"w": {"bias": __import__("torch").zeros(2)}},
                     arrays={"ids": np.array(["a", "b"]), "embedding": np.eye(2)})


def slow(payload, ctx):
    total = int(payload.get("steps", 600))
    for step in range(total):
        report(ctx.on_progress, "train", step + 1, total, loss=float(step))
        time.sleep(0.05)
    return RunResult(metrics={"steps": total})


def crash(payload, ctx):
    raise ValueError("the data had no label column called 'peak'")


def die(payload, ctx):
    os.kill(os.getpid(), signal.SIGKILL)
