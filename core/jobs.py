"""Long work outside the Streamlit script: a queue served by worker processes.

A page calls :meth:`JobManager.submit`; the run appears in the store as *queued*. A feeder
thread takes jobs from a standard-library :class:`queue.Queue` one at a time (``workers``
at once, 1 by default) and runs each in its own process (``python -m core.worker``), so a
crash, an out-of-memory kill or a cancel never takes the server down. The job's input is
handed over through files under ``<workspace>/jobs/<run id>/`` (tables as Parquet, the rest
as JSON; no pickle), removed when the job ends; :mod:`core.worker` is the process's entry. A fresh interpreter rather than
``multiprocessing``: Streamlit replaces ``__main__`` with the page script, which a
``spawn`` child would re-run. The process writes its progress
and log into the run; the page polls the store. When the process ends without having
finished its run, the run is marked failed with the exit code.

A task is a function ``fn(payload: dict, ctx: JobContext) -> RunResult`` named in
:data:`TASKS` as ``"module:function"`` (imported inside the worker, never by the server).
"""
from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import PROJECT_ROOT
from core.progress import ProgressEvent
from core.store import RunStore, StoreError, utcnow

log = logging.getLogger(__name__)

#: task name -> "module:function". Each method adds its entry here.
TASKS: dict[str, str] = {}


def register_task(name: str, target: str) -> None:
    """Make ``target`` ("package.module:function") runnable as job ``name``."""
    if ":" not in target:
        raise ValueError("a task target looks like 'package.module:function'")
    TASKS[name] = target


class JobCancelled(Exception):
    """Raised inside a job when its run was cancelled."""


@dataclass
class RunResult:
    """What a task hands back; the worker writes it into the run atomically."""

    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, Any] | None = None
    arrays: dict[str, Any] | None = None
    tables: dict[str, Any] | None = None


@dataclass
class JobContext:
    """Handed to a task: where to report, which device, how to log."""

    run_id: str
    store: RunStore
    device: Any = None
    seed: int = 0
    throttle_s: float = 0.25
    _last: float = 0.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("protlens.job"))

    def on_progress(self, event: ProgressEvent) -> None:
        """Write the event into the run (throttled; the last step of a stage always)."""
        now = time.monotonic()
        if now - self._last < self.throttle_s and event.step < event.total:
            return
        self._last = now
        self.store.write_progress(self.run_id, event.to_dict())
        if event.message:
            self.log.info("%s", event.message)


class _RunLogHandler(logging.Handler):
    def __init__(self, store: RunStore, run_id: str):
        super().__init__(logging.INFO)
        self.store, self.run_id = store, run_id
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.store.append_log(self.run_id, self.format(record))
        except OSError:
            pass


def _target(task: str) -> str:
    try:
        return TASKS[task]
    except KeyError:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(sorted(TASKS))}") from None


def _resolve(target: str) -> Callable[[dict, JobContext], RunResult]:
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def execute(target: str, payload: Mapping[str, Any], run_id: str, store: RunStore, *,
            device: str | None = None, on_progress: Callable[[ProgressEvent], None] | None = None
            ) -> None:
    """Run one job (``target`` = "module:function") to the end in this process.

    Success or failure is recorded in the run; only a BaseException that is not an
    Exception (KeyboardInterrupt, SystemExit) propagates after being recorded.
    """
    from core.device import describe_device, get_device, seed_everything

    handler = _RunLogHandler(store, run_id)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level, logging.INFO) if root.level else logging.INFO)
    t0 = time.perf_counter()
    try:
        run = store.update(run_id, status="running", started=utcnow(), pid=os.getpid())
        torch_device = get_device(device)
        store.update(run_id, device=describe_device(torch_device))
        seed_everything(run.seed)
        ctx = JobContext(run_id=run_id, store=store, device=torch_device, seed=run.seed)
        if on_progress is not None:
            writer = ctx.on_progress

            def both(event: ProgressEvent) -> None:
                writer(event)
                on_progress(event)

            ctx.on_progress = both  # type: ignore[method-assign]
        logging.getLogger("protlens.job").info("run %s: %s started on %s", run_id, target,
                                               torch_device)
        result = _resolve(target)(dict(payload), ctx)
        timings = {"total_s": round(time.perf_counter() - t0, 3),
                   **result.summary.pop("timings", {})}
        store.finish(run_id, metrics=result.metrics, history=result.history,
                     summary=result.summary, weights=result.weights, arrays=result.arrays,
                     tables=result.tables, timings=timings, pid=None)
        logging.getLogger("protlens.job").info("run %s done in %.1f s", run_id, timings["total_s"])
    except JobCancelled:
        store.fail(run_id, "cancelled by the user", status="cancelled")
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded in the run
        store.append_log(run_id, traceback.format_exc())
        reason = f"{type(exc).__name__}: {exc}".strip()
        try:
            store.fail(run_id, reason)
        except StoreError:
            pass
        if not isinstance(exc, Exception):
            raise
    finally:
        root.removeHandler(handler)


def save_payload(folder: Path, payload: Mapping[str, Any]) -> None:
    """Write a job's input: DataFrames as Parquet, everything else as one JSON object."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    plain = {}
    for key, value in payload.items():
        if isinstance(value, pd.DataFrame):
            value.to_parquet(folder / f"{key}.parquet", index=False)
        else:
            plain[key] = value
    try:
        text = json.dumps(plain)
    except TypeError as exc:
        raise TypeError(f"a job payload holds DataFrames and JSON values only: {exc}") from exc
    (folder / "payload.json").write_text(text, encoding="utf-8")


def load_payload(folder: Path) -> dict[str, Any]:
    import pandas as pd

    payload = json.loads((folder / "payload.json").read_text(encoding="utf-8"))
    for table in folder.glob("*.parquet"):
        payload[table.stem] = pd.read_parquet(table)
    return payload


@dataclass
class _Job:
    run_id: str
    target: str
    payload: Mapping[str, Any]
    device: str | None


class JobManager:
    """Queue of jobs served by worker processes; one per server (cache it as a resource)."""

    def __init__(self, store: RunStore, *, workers: int = 1):
        self.store = store
        self.workers = max(1, int(workers))
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._procs: dict[str, subprocess.Popen] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self.recover()
        self._threads = [threading.Thread(target=self._feed, name=f"protlens-jobs-{i}",
                                          daemon=True) for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        atexit.register(self.shutdown)

    # ------------------------------------------------------------------ public
    def submit(self, task: str, payload: Mapping[str, Any], *, method: str,
               name: str | None = None, config: Mapping[str, Any] | None = None,
               dataset: Mapping[str, Any] | None = None, seed: int = 0,
               device: str | None = None) -> str:
        """Queue a job; returns the run id at once."""
        target = _target(task)
        run = self.store.new_run(method, name=name, task=task, config=config,
                                 dataset=dataset, seed=seed, status="queued")
        # The server's pid marks the queued run as owned: recover() leaves it alone.
        self.store.update(run.id, pid=os.getpid())
        self._queue.put(_Job(run.id, target, payload, device))
        return run.id

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running job; True if it was still active."""
        with self._lock:
            run = self.store.get(run_id)
            if not run.active:
                return False
            self._cancelled.add(run_id)
            proc = self._procs.get(run_id)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.store.fail(run_id, "cancelled by the user", status="cancelled")
        return True

    def queue_position(self, run_id: str) -> int | None:
        """0-based place of a queued job, None if it is not waiting."""
        with self._queue.mutex:
            ids = [job.run_id for job in self._queue.queue if job is not None]
        return ids.index(run_id) if run_id in ids else None

    def running(self) -> list[str]:
        with self._lock:
            return [rid for rid, proc in self._procs.items() if proc.poll() is None]

    def shutdown(self, *, wait: bool = False) -> None:
        for _ in self._threads:
            self._queue.put(None)
        with self._lock:
            procs = list(self._procs.items())
        for run_id, proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                try:
                    self.store.fail(run_id, "interrupted: the server stopped")
                except StoreError:
                    pass
        if wait:
            for thread in self._threads:
                thread.join(timeout=5)

    def recover(self) -> list[str]:
        """Mark runs left active by a server that is gone as failed; returns their ids."""
        self.store.clean()
        inboxes = self.store.root / "jobs"
        for inbox in inboxes.iterdir() if inboxes.is_dir() else []:
            if not self.store.exists(inbox.name) or not self.store.get(inbox.name).active:
                shutil.rmtree(inbox, ignore_errors=True)  # input of a job that has ended
        stale = []
        for run in self.store.list():
            if run.active and not _pid_alive(run.pid):
                self.store.fail(run.id, "interrupted: the server stopped before the job ended")
                stale.append(run.id)
        return stale

    # ------------------------------------------------------------------ worker side
    def _feed(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.run_id in self._cancelled or not self.store.exists(job.run_id):
                    continue
                inbox = self.store.root / "jobs" / job.run_id
                try:
                    save_payload(inbox, job.payload)
                except (TypeError, OSError) as exc:
                    self.store.fail(job.run_id, f"could not hand the job over: {exc}")
                    continue
                proc = subprocess.Popen(
                    [sys.executable, "-m", "core.worker", str(self.store.root), job.run_id,
                     job.target, job.device or ""],
                    cwd=PROJECT_ROOT, env=_child_env(), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                self._procs[job.run_id] = proc
            _, err = proc.communicate()
            shutil.rmtree(inbox, ignore_errors=True)
            with self._lock:
                self._procs.pop(job.run_id, None)
                cancelled = job.run_id in self._cancelled
            try:
                run = self.store.get(job.run_id)
            except StoreError:
                continue  # deleted while running
            if run.active and not cancelled:
                code = proc.returncode
                why = (f"the worker process was killed by signal {-code}" if code and code < 0
                       else f"the worker process exited with code {code}")
                tail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-20:]
                if tail:
                    self.store.append_log(job.run_id, "\n".join(tail))
                self.store.fail(job.run_id, f"{why} before finishing (out of memory?)")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH"))
                                        if p)
    return env


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_inline(task: str, payload: Mapping[str, Any], store: RunStore, *, method: str,
               name: str | None = None, config: Mapping[str, Any] | None = None,
               dataset: Mapping[str, Any] | None = None, seed: int = 0,
               device: str | None = None,
               on_progress: Callable[[ProgressEvent], None] | None = None) -> str:
    """Run a job in this process (command line, tests); returns the run id."""
    run = store.new_run(method, name=name, task=task, config=config, dataset=dataset,
                        seed=seed, status="queued")
    execute(_target(task), payload, run.id, store, device=device, on_progress=on_progress)
    return run.id


def print_outcome(store: RunStore, run_id: str, *,
                  show: Callable[[Any], str] | None = None) -> int:
    """What a ``python -m core train`` command prints when its run ends; the exit code.

    A finished run prints ``show(run)`` (default: its float metrics as JSON), a failed one its
    reason (exit code 1)."""
    run = store.get(run_id)
    print(f"run {run_id}: {run.status}")
    if run.status != "done":
        print(run.error)
        return 1
    print(show(run) if show else json.dumps({k: round(v, 4) for k, v in run.metrics.items()
                                             if isinstance(v, float)}, indent=1))
    return 0
register_task("scan.fit", "core.tasks.scan:fit_job")
register_task("scan.sweep", "core.tasks.scan_sweep:sweep_job")
register_task("property.fit", "core.tasks.property:fit_job")

register_task("families.fit", "core.tasks.families:fit_job")
register_task("text.fit", "core.tasks.text:fit_job")
