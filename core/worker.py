"""Entry point of a job process: ``python -m core.worker ROOT RUN_ID TARGET [DEVICE]``.

Started by :class:`core.jobs.JobManager`; reads the job's input from ``ROOT/jobs/RUN_ID/`` and
runs it with :func:`core.jobs.execute`, which records success or failure in the run.
"""
from __future__ import annotations

import logging
import sys

from core.jobs import execute, load_payload
from core.store import RunStore


def main(argv: list[str]) -> int:
    root, run_id, target = argv[:3]
    device = argv[3] if len(argv) > 3 and argv[3] else None
    logging.basicConfig(level=logging.INFO)
    store = RunStore(root)
    execute(target, load_payload(store.root / "jobs" / run_id), run_id, store, device=device)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
