"""Command line: the dashboard's pipelines without the browser.

    python -m core datasets                    built-in data sets and where each was found
    python -m core validate FILE [FILE ...]    the validation report of sequence files
    python -m core train METHOD [options]      train a model; the run lands in the store
    python -m core bench METHOD|all            run a benchmark, write assets/bench/METHOD.json
    python -m core runs                        list saved runs
    python -m core saliency --run R --ids ... --out scores.csv
                                               per-residue saliency of a property run
    python -m core search "QUERY" --run R      search a protein-text run (text or sequence)

Methods add themselves through :data:`TRAINERS` and :data:`core.bench.BENCHES`: each maps a
method to ``"module:function"``; a trainer module also provides ``add_arguments(parser)``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import shlex
import sys
from pathlib import Path

#: method -> "module:function" taking the parsed args and returning an exit code.
TRAINERS: dict[str, str] = {}
TRAINERS["property"] = "core.tasks.property:cli_train"
TRAINERS["scan"] = "core.tasks.scan:cli_train"
TRAINERS["families"] = "core.tasks.families:cli_train"
TRAINERS["text"] = "core.tasks.text:cli_train"


def _load(target: str):
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def cmd_datasets(args: argparse.Namespace) -> int:
    from core.datasets import list_datasets

    table = list_datasets()
    if args.json:
        print(table.to_json(orient="records", indent=1))
    else:
        for row in table.itertuples():
            mark = "found  " if row.found else "MISSING"
            print(f"{mark} {row.name:<20} {row.kind:<11} {row.where}")
        print(f"{int(table.found.sum())} of {len(table)} built-in data sets found")
    return 0 if table.found.all() else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from core.io import ValidationError, read_sequences

    worst = 0
    for name in args.files:
        path = Path(name)
        try:
            parsed = read_sequences(path.read_bytes(), filename=path.name,
                                    nonstandard=args.nonstandard, max_length=args.max_length,
                                    format=args.format)
        except ValidationError as exc:
            print(f"{path}: cannot be read: {exc}")
            worst = 2
            continue
        except OSError as exc:
            print(f"{path}: {exc.strerror}")
            worst = 2
            continue
        report = parsed.report
        if args.json:
            print(json.dumps(report.to_dict(), indent=1))
        else:
            print(report.summary())
            frame = report.to_frame()
            if len(frame):
                print(frame.to_string(index=False, max_colwidth=90))
        worst = max(worst, 1 if report.errors else 0)
    return worst


def cmd_runs(args: argparse.Namespace) -> int:
    from core.store import RunStore

    for run in RunStore().list(method=args.method):
        print(f"{run.id}  {run.status:<9} {run.method:<10} {run.name}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from core.tasks.text_search import search_cli

    return search_cli(args)


def cmd_train(args: argparse.Namespace) -> int:
    return _load(TRAINERS[args.method])(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from core.bench import BENCHES, write_bench

    methods = sorted(BENCHES) if args.method == "all" else [args.method]
    for method in methods:
        subset = os.environ.get("PROTLENS_BENCH_DATASETS", "")
        command = (f"PROTLENS_BENCH_DATASETS={shlex.quote(subset)} " if subset else "") + \
            f"python -m core bench {shlex.quote(method)}" + \
            (" --quick" if args.quick else "") + \
            (f" --seeds {args.seeds}" if args.seeds is not None else "")
        options = {"quick": args.quick}
        if args.seeds is not None:
            options["seeds"] = args.seeds
        rows = _load(BENCHES[method])(**options)
        path = write_bench(method, rows, command=command)
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from core import bench  # noqa: F401 - fills BENCHES
    from core.bench import BENCHES

    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("datasets", help="list built-in data sets and where each was found")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("validate", help="validate FASTA/CSV/TSV/Stockholm/A2M files")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", default=None,
                   choices=["fasta", "aligned_fasta", "a2m", "stockholm", "csv", "tsv"])
    p.add_argument("--nonstandard", default="keep", choices=["keep", "to_x", "reject"])
    p.add_argument("--max-length", type=int, default=5000)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("runs", help="list saved runs")
    p.add_argument("--method", default=None)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("search", help="text -> proteins (or --sequence: sequence -> texts) "
                       "with a protein-text run")
    p.add_argument("query", help="a description, or a protein sequence with --sequence")
    p.add_argument("--run", required=True, help="id of a finished text retrieval run")
    p.add_argument("--sequence", action="store_true", help="the query is a protein sequence")
    p.add_argument("--library", default=None,
                   help="CSV/TSV/FASTA of proteins (and texts) to search instead of the run's")
    p.add_argument("-k", type=int, default=10, help="results to show")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("train", help="train a model (the run is saved in the store)")
    methods = p.add_subparsers(dest="method", required=True)
    for method, target in sorted(TRAINERS.items()):
        module = importlib.import_module(target.split(":")[0])
        mp = methods.add_parser(method, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_arguments(mp)
    p.set_defaults(func=cmd_train)

    module = importlib.import_module("core.saliency_cli")
    p = sub.add_parser("saliency", help="per-residue saliency or single-mutant scan of a "
                       "property run", description=module.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(p)
    p.set_defaults(func=lambda args: _load("core.saliency_cli:cli")(args))

    p = sub.add_parser("bench", help="run a benchmark and write assets/bench/METHOD.json")
    p.add_argument("method", choices=sorted(BENCHES) + ["all"])
    p.add_argument("--quick", action="store_true", help="fewer seeds and folds (smoke run)")
    p.add_argument("--seeds", type=int, default=None)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
