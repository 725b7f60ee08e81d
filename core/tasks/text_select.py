"""Model choice on validation designs only (the test proteins are never touched).

Each variant (overrides of :class:`~core.tasks.text_pipeline.TextExperimentConfig`) is trained
and scored on the inner designs of :func:`~core.tasks.text_data.inner_paper_protocols`, which
mirror the paper protocol inside every seed's training pool; the README's model choices were
made this way::

    python -m core.tasks.text_select '{"istats": {"neighbour_stats": true}}' --repeats 2

A variant's ``seed_offset`` trains it from another initialisation (seed + offset).
"""
from __future__ import annotations

import argparse
import json

import pandas as pd

METRICS = ("pairwise_acc_hard", "pairwise_acc_strict", "pairwise_acc_easy", "n_hard",
           "recall_at_10")


def compare_variants(table: pd.DataFrame, text_features, twins: pd.DataFrame,
                     variants: dict[str, dict], *, texts: list[str] | None = None,
                     seeds: int = 3, repeats: int = 2) -> pd.DataFrame:
    """One row per (variant, seed, inner design, model) with the validation metrics."""
    from core.tasks.text_data import get_protocol, inner_paper_protocols
    from core.tasks.text_pipeline import TextExperimentConfig, run_experiment

    rows = []
    for seed in range(seeds):
        outer = get_protocol(table, "paper", seed=seed)
        for r, inner in enumerate(inner_paper_protocols(table, outer, repeats=repeats,
                                                        seed=seed)):
            for name, over in variants.items():
                offset = int(over.get("seed_offset", 0))  # another initialisation
                cfg = TextExperimentConfig.from_dict({"finetune": ["mixed"]} | over)
                exp = run_experiment(table, text_features, twins, inner, cfg, texts=texts,
                                     seed=seed + offset)
                for model, res in exp.results.items():
                    rows.append({"variant": name, "seed": seed, "inner": r, "model": model}
                                | {k: res.metrics.get(k) for k in METRICS})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    import torch

    from core.tasks.text_data import load_builtin
    from core.tasks.text_features import embed_texts

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variants", help="JSON: {name: {config overrides}}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    table, texts, twins = load_builtin()
    out = compare_variants(table, embed_texts(texts), twins, json.loads(args.variants),
                           texts=texts, seeds=args.seeds, repeats=args.repeats)
    print(out.groupby(["variant", "model"])[list(METRICS)].mean().round(4).to_string())


if __name__ == "__main__":
    main()
