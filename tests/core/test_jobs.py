"""Jobs run in worker processes: queued, progress, done, failure, crash, cancel."""
from __future__ import annotations

import time

import pytest

from core.jobs import JobManager, register_task, run_inline
from core.store import RunStore

register_task("test.quick", "tests.core.jobtasks:quick")
register_task("test.slow", "tests.core.jobtasks:slow")
register_task("test.crash", "tests.core.jobtasks:crash")
register_task("test.die", "tests.core.jobtasks:die")


def wait_for(store, run_id, statuses, timeout=90.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = store.get(run_id)
        if run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} stayed {store.get(run_id).status}")


@pytest.fixture
def manager(tmp_path):
    jobs = JobManager(RunStore(tmp_path / "ws"))
    yield jobs
    jobs.shutdown()


def test_inline_job_writes_results(tmp_path):
    store = RunStore(tmp_path)
    events = []
    run_id = run_inline("test.quick", {"values": [1, 2, 3]}, store, method="test",
                        on_progress=events.append)
    run = store.get(run_id)
    assert run.status == "done" and run.metrics == {"mean": 2.0}
    assert [e.step for e in events] == [1, 2, 3]
    assert store.load_arrays(run_id)["ids"].tolist() == ["a", "b"]
    assert float(store.load_weights(run_id)["w"]["bias"].sum()) == 0.0
    assert run.timings["total_s"] >= 0


def test_inline_failure_is_recorded(tmp_path):
    store = RunStore(tmp_path)
    run = store.get(run_inline("test.crash", {}, store, method="test"))
    assert run.status == "failed"
    assert "no label column called 'peak'" in run.error
    assert "Traceback" in store.read_log(run.id)


@pytest.mark.slow
def test_worker_runs_queue_in_order_and_reports_progress(manager):
    store = manager.store
    first = manager.submit("test.slow", {"steps": 40}, method="test", name="first")
    second = manager.submit("test.quick", {"values": [4.0]}, method="test", name="second")
    assert store.get(second).status == "queued"
    wait_for(store, first, {"running"})
    assert manager.queue_position(second) == 0
    deadline = time.time() + 60
    while store.read_progress(first) is None and time.time() < deadline:
        time.sleep(0.1)
    assert store.read_progress(first)["stage"] == "train"
    assert wait_for(store, first, {"done"}).metrics == {"steps": 40}
    assert wait_for(store, second, {"done"}).metrics == {"mean": 4.0}


@pytest.mark.slow
def test_crashing_and_killed_workers_mark_runs_failed(manager):
    store = manager.store
    crashed = manager.submit("test.crash", {}, method="test")
    killed = manager.submit("test.die", {}, method="test")
    after = manager.submit("test.quick", {"values": [1.0]}, method="test")
    assert "ValueError" in wait_for(store, crashed, {"failed"}).error
    assert "signal 9" in wait_for(store, killed, {"failed"}).error
    assert wait_for(store, after, {"done"}).status == "done"  # the manager keeps serving


@pytest.mark.slow
def test_cancel_running_and_queued(manager):
    store = manager.store
    running = manager.submit("test.slow", {"steps": 2000}, method="test")
    queued = manager.submit("test.quick", {"values": [1.0]}, method="test")
    wait_for(store, running, {"running"})
    assert manager.cancel(queued)
    assert manager.cancel(running)
    assert store.get(running).status == "cancelled"
    assert store.get(queued).status == "cancelled"
    time.sleep(1.0)
    assert store.get(queued).status == "cancelled"  # never started afterwards
    assert not manager.cancel(running)


def test_recover_marks_orphaned_runs_failed(tmp_path):
    store = RunStore(tmp_path)
    orphan = store.new_run("test", status="running")
    store.update(orphan.id, pid=2**22 + 12345)  # no such process
    jobs = JobManager(store)
    try:
        assert store.get(orphan.id).status == "failed"
        assert "interrupted" in store.get(orphan.id).error
    finally:
        jobs.shutdown()


def test_unknown_task_is_refused(manager):
    with pytest.raises(KeyError, match="unknown task"):
        manager.submit("no.such.task", {}, method="test")
