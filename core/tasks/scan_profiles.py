"""Per-cluster profiles: each cluster's members aligned on a profile HMM grown from its most
central member (pyhmmer), the source of the cluster's sequence logo."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.cluster_metrics import central_members
from core.hmm import align_group
from core.progress import ProgressCallback, report

#: Members aligned per cluster, most central first: enough for a stable logo, and the alignment
#: of 10 clusters x 100 members takes about a second.
MAX_MEMBERS = 100


def cluster_alignments(features: np.ndarray, assignments: np.ndarray, *, ids: Sequence[str],
                       sequences: Sequence[str], max_members: int = MAX_MEMBERS,
                       order: dict | None = None,
                       on_progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Table ``cluster, rank, id, similarity, aligned`` (match columns of the cluster's HMM).

    ``order``: :func:`~core.cluster_metrics.central_members` of the same data, when already
    computed. Clusters are aligned independently, so widths differ between clusters. A cluster whose
    alignment fails (e.g. members without residues) is skipped with no rows.
    """
    ids = np.asarray(ids).astype(str)
    sequences = list(sequences)
    frames = []
    order = central_members(features, assignments) if order is None else order
    for done, (j, (idx, sim)) in enumerate(order.items(), start=1):
        idx, sim = idx[:max_members], sim[:max_members]
        try:
            group = align_group(ids[idx], [sequences[i] for i in idx], seed=0,
                                max_members=max_members)
        except ValueError:
            continue
        frames.append(pd.DataFrame({"cluster": f"c{j}", "rank": np.arange(1, len(idx) + 1),
                                    "id": group.ids, "similarity": sim.astype(float),
                                    "aligned": group.rows}))
        report(on_progress, "profiles", done, len(order), f"aligned cluster c{j}")
    if not frames:
        return pd.DataFrame(columns=["cluster", "rank", "id", "similarity", "aligned"])
    return pd.concat(frames, ignore_index=True)
