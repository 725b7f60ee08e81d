"""Predicted secondary structure and solvent accessibility from Debian's ``reprof``.

``reprof`` (GPL, called as a separate program, never imported) predicts one FASTA sequence
per call; a multi-record FASTA is read as one concatenated chain, so batching by FASTA is
wrong. We batch by running one Perl process per chunk that loads ``RG::Reprof`` once and
predicts each sequence of the chunk from its own file; chunks run in parallel processes.
Results are cached per sequence (SHA-1 of the upper-case sequence) under the workspace.

Per residue we keep ``PHEL`` (H helix, E strand, L other) and ``Pbe`` (b buried, e exposed).
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.progress import ProgressCallback, report

log = logging.getLogger(__name__)

REPROF = "reprof"
MODEL_DIR = "/usr/share/reprof"
# One Perl process per chunk: load the predictor once, run it on each listed file.
_DRIVER = r"""
use strict; use warnings; use RG::Reprof;
my $r = RG::Reprof::Reprof->new(model_dir => $ARGV[0]);
while (my $line = <STDIN>) {
  chomp $line; my ($i, $o) = split /\t/, $line;
  eval { $r->run(input_file => $i, out_file => $o); 1 } or print STDERR "failed $i: $@\n";
}
"""


def available() -> bool:
    """True when the ``reprof`` program and its models are installed."""
    return shutil.which(REPROF) is not None and Path(MODEL_DIR).is_dir()


def cache_dir() -> Path:
    from core.config import Settings

    return Settings.from_env().home / "cache" / "reprof"


def seq_key(seq: str) -> str:
    return hashlib.sha1(seq.upper().encode(), usedforsecurity=False).hexdigest()


def _cache_path(root: Path, seq: str) -> Path:
    key = seq_key(seq)
    return root / key[:2] / f"{key}.txt"


def parse_output(text: str) -> tuple[str, str]:
    """(SS string over H/E/L, accessibility string over b/e) from one reprof output file."""
    ss, acc, cols = [], [], None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if cols is None:
            cols = {name: i for i, name in enumerate(parts)}
            continue
        ss.append(parts[cols["PHEL"]])
        acc.append(parts[cols["Pbe"]])
    return "".join(ss), "".join(acc)


def _run_chunk(chunk: list[str], root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="reprof-") as tmp:
        tmpdir = Path(tmp)
        driver = tmpdir / "driver.pl"
        driver.write_text(_DRIVER)
        lines = []
        for i, seq in enumerate(chunk):
            (tmpdir / f"{i}.fasta").write_text(f">q{i}\n{seq}\n")
            lines.append(f"{tmpdir / f'{i}.fasta'}\t{tmpdir / f'{i}.out'}")
        proc = subprocess.run(["perl", str(driver), MODEL_DIR], input="\n".join(lines) + "\n",
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"reprof failed ({proc.returncode}): {proc.stderr[-500:]}")
        for i, seq in enumerate(chunk):
            out = tmpdir / f"{i}.out"
            if not out.is_file():
                log.warning("reprof gave no prediction for sequence %d (%s...)", i, seq[:20])
                continue
            ss, acc = parse_output(out.read_text())
            if len(ss) != len(seq):
                log.warning("reprof output length %d != sequence length %d", len(ss), len(seq))
                continue
            path = _cache_path(root, seq)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp_path = path.with_suffix(".part")
            tmp_path.write_text(f"{ss}\n{acc}\n")
            tmp_path.replace(path)


def predict(sequences: list[str], *, cache: Path | None = None, workers: int = 2,
            chunk: int = 50, on_progress: ProgressCallback | None = None
            ) -> tuple[list[tuple[str, str] | None], dict]:
    """SS and accessibility strings per sequence (None where reprof failed), and timing info.

    Returns ``(predictions, info)`` with ``info = {"n", "cached", "predicted", "seconds",
    "s_per_seq"}``; ``seconds`` is the wall time of the new predictions only.
    """
    if not available():
        raise RuntimeError("reprof is not installed (Debian package 'reprof')")
    root = Path(cache) if cache is not None else cache_dir()
    seqs = [s.upper() for s in sequences]
    todo = sorted({s for s in seqs if not _cache_path(root, s).is_file()}, key=len)
    t0 = time.perf_counter()
    chunks = [todo[i:i + chunk] for i in range(0, len(todo), chunk)]
    done = 0
    report(on_progress, "reprof", 0, max(1, len(chunks)), f"reprof on {len(todo)} sequences")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for _ in pool.map(lambda c: _run_chunk(c, root), chunks):
            done += 1
            report(on_progress, "reprof", done, len(chunks))
    seconds = time.perf_counter() - t0
    out: list[tuple[str, str] | None] = []
    for s in seqs:
        path = _cache_path(root, s)
        if path.is_file():
            ss, acc = path.read_text().split("\n")[:2]
            out.append((ss, acc))
        else:
            out.append(None)
    info = {"n": len(seqs), "cached": len(seqs) - len(todo), "predicted": len(todo),
            "seconds": round(seconds, 2),
            "s_per_seq": round(seconds / len(todo), 4) if todo else None}
    return out, info
