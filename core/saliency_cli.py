"""Per-residue saliency (and single-mutant scans) of a saved property run, headless.

    python -m core saliency --run R --ids parent W122A --out scores.csv
    python -m core saliency --run R --ids parent --mutagenesis --out mutants.csv
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from core.saliency import BASELINES, METHODS, TARGETS, SaliencyConfig

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", required=True, help="id of a finished property run")
    p.add_argument("--ids", nargs="*", default=None,
                   help="proteins to explain (default: the parent, least and most by the label)")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--method", default="maxpool", choices=METHODS)
    p.add_argument("--baseline", default="padding", choices=BASELINES)
    p.add_argument("--target", default="property", choices=TARGETS)
    p.add_argument("--dim", type=int, default=0, help="embedding coordinate (target embedding_dim)")
    p.add_argument("--reference", default=None, help="protein id (target distance)")
    p.add_argument("--parent", default=None, help="parent id (default: the data set's parent)")
    p.add_argument("--steps", type=int, default=64, help="integrated-gradients steps")
    p.add_argument("--mutagenesis", action="store_true",
                   help="instead: predict every single mutant of the first id (W122A notation)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: auto)")


def explain(store, run_id: str, ids: list[str] | None, config: SaliencyConfig, *,
            parent: str | None = None, reference: str | None = None, device=None
            ) -> pd.DataFrame:
    """Per-residue scores of ``ids`` with each residue's mutation from the parent marked."""
    from core.saliency import compute_saliency
    from core.saliency_analysis import default_proteins, pick_parent, run_proteins, tracks
    from core.tasks.property import load_property_model

    run = store.get(run_id)
    table = run_proteins(store, run_id)
    model = load_property_model(store, run_id, device=device)
    parent = parent or pick_parent(table)
    ids = ids or default_proteins(table, run.summary.get("label", "label"))
    by_id = table.set_index("id")
    missing = [i for i in [*ids, parent, *([reference] if reference else [])]
               if i not in by_id.index]
    if missing:
        raise ValueError(f"not in run {run_id}: {missing}")
    rows = by_id.loc[ids]
    scores = compute_saliency(
        model, rows["sequence"].tolist(), ids=ids, config=config,
        aligned=rows["aligned"].tolist() if "aligned" in rows else None,
        parent=by_id.at[parent, "sequence"],
        reference=by_id.at[reference, "sequence"] if reference else None)
    long, marks = tracks(table, scores, ids, parent)
    labels = {(pid, m.column): m.label for pid, ms in marks.items() for m in ms}
    long = long.dropna(subset=["position"])
    long["mutation"] = [labels.get((i, c), "") for i, c in zip(long["id"], long["column"],
                                                                strict=True)]
    out = scores.merge(long[["id", "position", "mutation"]].astype({"position": int}),
                       on=["id", "position"], how="left")
    out["mutation"] = out["mutation"].fillna("")
    out["method"], out["target"] = config.method, config.target
    return out


def cli(args: argparse.Namespace) -> int:
    from core.device import get_device
    from core.store import RunStore

    store = RunStore()
    device = get_device(args.device)
    if args.mutagenesis:
        from core.mutagenesis import mutagenesis, rank_mutants
        from core.saliency_analysis import pick_parent, run_proteins
        from core.tasks.property import load_property_model

        table = run_proteins(store, args.run).set_index("id")
        pid = (args.ids or [pick_parent(table.reset_index())])[0]
        model = load_property_model(store, args.run, device=device)
        aligned = table.at[pid, "aligned"] if "aligned" in table else None
        muts, info = mutagenesis(model, table.at[pid, "sequence"], aligned=aligned)
        out = rank_mutants(muts, kind="ei", incumbent=info["wild_type_mean"])
        print(f"{info['n_variants']} single mutants of {pid} in {info['seconds']:.2f} s "
              f"(wild type {info['wild_type_mean']:.3f} ± {info['wild_type_std']:.3f})")
    else:
        config = SaliencyConfig(method=args.method, baseline=args.baseline, target=args.target,
                                dim=args.dim, n_steps=args.steps)
        out = explain(store, args.run, args.ids, config, parent=args.parent,
                      reference=args.reference, device=device)
        print(f"{out['id'].nunique()} proteins, {len(out)} residues")
    path = Path(args.out)
    out.to_csv(path, index=False)
    print(f"wrote {path}")
    return 0
