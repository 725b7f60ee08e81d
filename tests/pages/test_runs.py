"""Runs page: list, details, rename, delete with confirmation."""
from __future__ import annotations

from core.jobs import register_task, run_inline
from core.store import RunStore
from tests.pages.conftest import open_page

register_task("test.quick", "tests.core.jobtasks:quick")


def test_empty_workspace_says_so(app):
    at = open_page(app, "runs.py")
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)


def test_run_is_listed_shown_renamed_and_deleted(app, workspace):
    store = RunStore(workspace)
    run_id = run_inline("test.quick", {"values": [2.0, 4.0]}, store, method="test",
                        name="tiny run", dataset={"name": "toy", "n": 2})
    at = open_page(app, "runs.py")
    assert not at.exception
    assert "tiny run" in at.dataframe[0].value["name"].tolist()
    at.session_state["runs.selected"] = run_id
    at.run()
    assert at.subheader[0].value == "tiny run"
    metrics = at.dataframe[1].value
    assert dict(zip(metrics["metric"], metrics["value"], strict=True))["mean"] == 3.0
    at.text_input(key=f"runs.w.name.{run_id}").set_value("renamed run")
    at.button(key="runs.w.rename").click().run()
    assert store.get(run_id).name == "renamed run"
    at.button(key="runs.w.delete").click().run()
    assert store.exists(run_id)  # only asked, not yet deleted
    at.button(key="runs.w.delete_yes").click().run()
    assert not store.exists(run_id)


def test_running_run_shows_progress_and_can_be_cancelled(app, workspace):
    import os

    store = RunStore(workspace)
    run = store.new_run("test", name="long job", status="running")
    store.update(run.id, pid=os.getpid())  # alive, so the page's job manager leaves it be
    store.write_progress(run.id, {"stage": "train", "step": 3, "total": 10,
                                  "metrics": {"loss": 0.25}})
    at = open_page(app, "runs.py")
    at.session_state["runs.selected"] = run.id
    at.run()
    assert not at.exception
    bar = at.get("progress")[0]
    assert "train 3/10" in bar.proto.text and "loss 0.25" in bar.proto.text
    at.button(key=f"cancel.{run.id}").click().run()
    assert store.get(run.id).status == "cancelled"
