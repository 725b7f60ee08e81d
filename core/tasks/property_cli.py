"""Command line of the property models: ``python -m core train property ...``.

Examples::

    python -m core train property --dataset absorption
    python -m core train property --dataset T50 --baselines --n-models 3
    python -m core train property --dataset T50 --committee linear+matern
    python -m core train property --dataset absorption --committee linear+matern \
        --label-scale auto --merge-columns auto                  # triplet_cnn_gp_auto
    python -m core train property --csv variants.csv --label activity --epochs 40
    python -m core train property --dataset absorption --quick     # a smoke run
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from core.tasks.label_scale import MERGES, SCALES, TRENDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m core train property``."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="built-in set: absorption, enantioselectivity, "
                                       "localization, T50")
    src.add_argument("--csv", help="a CSV with id, sequence, label column(s), optional split")
    parser.add_argument("--label", default=None, help="label column (default: the data set's)")
    parser.add_argument("--epochs", type=int, default=None, help="most training epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: auto)")
    parser.add_argument("--baselines", action="store_true",
                        help="also fit one-hot GP, BLOSUM GP, ridge and the MSE CNN")
    parser.add_argument("--readout", default=None,
                        choices=["embedding", "pooled", "embedding+blosum", "embedding+onehot"])
    parser.add_argument("--n-models", type=int, default=None, help="seed-ensemble size")
    parser.add_argument("--committee", default=None,
                        choices=["none", "matern", "linear+matern", "auto"],
                        help="mix the seed ensemble with GPs on one-hot and BLOSUM62 rows "
                             "(Matérn, or linear + Matérn kernel: triplet_cnn_gp_committee_lin; "
                             "auto: the kernel inner CV on the training rows prefers)")
    parser.add_argument("--label-scale", default=None, choices=SCALES,
                        help="scale the GPs fit the labels on; auto: none or log, whichever "
                             "inner CV on the training rows prefers (weighted towards rows "
                             "with as many mutations as the rows to predict, given column m). "
                             "With --committee linear+matern --merge-columns auto: "
                             "triplet_cnn_gp_auto")
    parser.add_argument("--merge-columns", default=None, choices=MERGES,
                        help="the committee's one-hot GP reads columns identical across the "
                             "training rows (chimera blocks) as one; auto: by the same inner CV")
    parser.add_argument("--trend", default=None, choices=TRENDS,
                        help="the GPs' prior mean: the training mean (none) or a line in the "
                             "distance to the parent (rows with m == 0); auto: by the same "
                             "inner CV")
    parser.add_argument("--margin", type=float, default=None)
    parser.add_argument("--margin-mode", default=None, choices=["fixed", "scaled"])
    parser.add_argument("--mining", default=None, choices=["all", "semihard", "hard"])
    parser.add_argument("--input", default=None, choices=["auto", "sequence", "aligned"],
                        help="what the CNN reads (aligned rows need an 'aligned' column)")
    parser.add_argument("--name", default=None, help="run name in the store")
    parser.add_argument("--quick", action="store_true", help="3 epochs, no GP restarts")


def config_from_args(args: argparse.Namespace):
    """The PropertyConfig the options ask for (defaults for options not given)."""
    from core.tasks.property_config import PropertyConfig

    cfg = PropertyConfig(seed=args.seed, baselines=bool(args.baselines))
    top = {k: v for k, v in (("readout", args.readout), ("n_models", args.n_models),
                             ("input", args.input),
                             ("label_scale", getattr(args, "label_scale", None)),
                             ("merge_columns", getattr(args, "merge_columns", None)),
                             ("label_trend", getattr(args, "trend", None)))
           if v is not None}
    train = {k: v for k, v in (("epochs", args.epochs), ("margin", args.margin),
                               ("margin_mode", args.margin_mode), ("mining", args.mining))
             if v is not None}
    if getattr(args, "committee", None) not in (None, "none"):
        top.update(committee=True, committee_kernel=args.committee)
    if args.quick:
        top.setdefault("n_models", 1)
        top["gp_restarts"] = 0
        train.setdefault("epochs", 3)
    cfg = replace(cfg, **top)
    return cfg.with_train(**train) if train else cfg


def _load_table(args: argparse.Namespace):
    import pandas as pd

    if args.dataset:
        from core.datasets import get_spec, load

        return load(args.dataset), args.label or get_spec(args.dataset).label, args.dataset
    table = pd.read_csv(args.csv)
    return table, args.label, args.csv


def _printer():
    def show(event) -> None:
        metrics = " ".join(f"{k}={v:.4g}" for k, v in event.metrics.items())
        end = "\n" if event.step >= event.total else ""
        sys.stdout.write(f"\r{event.stage:>10} {event.step:>4}/{event.total:<4} {metrics:<60}"
                         + end)
        sys.stdout.flush()
    return show


def cli_train(args: argparse.Namespace) -> int:
    """Train on a data set or CSV, print progress, the metrics table and the run id."""
    from dataclasses import asdict

    import core.jobs  # noqa: F401 - registers property.fit
    from core.jobs import run_inline
    from core.store import RunStore

    cfg = config_from_args(args)
    table, label, name = _load_table(args)
    store = RunStore()
    payload = {"table": table, "label": label, "config": asdict(cfg), "dataset": name}
    run_id = run_inline("property.fit", payload, store, method="property",
                        name=args.name or f"property on {name}", config=asdict(cfg),
                        dataset={"name": name, "n": len(table), "label": label},
                        seed=args.seed, device=args.device, on_progress=_printer())
    run = store.get(run_id)
    print()
    if run.status != "done":
        print(f"run {run_id} {run.status}: {run.error}")
        return 1
    s = run.summary
    print(f"{label}: {s['n_train']} train, {s['n_test']} test, {s['n_unlabelled']} unlabelled "
          f"rows; CNN read '{s['input']}'; {s['epochs_run']} epochs (best {s['best_epoch']})")
    cols = ("mae", "spearman", "r2", "coverage_1sd", "coverage_2sd", "seconds")
    print(f"{'model':<32}" + "".join(f"{c:>14}" for c in cols))
    for row in s["models"]:
        cells = "".join(f"{row.get(c, float('nan')):>14.4g}" for c in cols)
        print(f"{row['model']:<32}{cells}")
    print(f"run id: {run_id}")
    return 0
