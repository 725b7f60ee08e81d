"""Progress on screen: job runs polled from the store, and in-page ProgressEvents."""
from __future__ import annotations

import streamlit as st

from core.progress import ProgressEvent
from pages._shared.cache import get_jobs, get_store

_STATUS_ICON = {"queued": "⏳", "running": "⚙️", "done": "✅", "failed": "❌", "cancelled": "⏹️"}


def status_label(status: str) -> str:
    return f"{_STATUS_ICON.get(status, '')} {status}"


def _event_text(progress: dict | None) -> tuple[float, str]:
    if not progress:
        return 0.0, "starting…"
    total = progress.get("total") or 0
    step = progress.get("step") or 0
    fraction = min(1.0, step / total) if total else 0.0
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in (progress.get("metrics") or {}).items())
    text = f"{progress.get('stage', '')} {step}/{total}" + (f" — {metrics}" if metrics else "")
    return fraction, text


@st.fragment(run_every=1.0)
def watch_run(run_id: str) -> None:
    """Show a queued/running run's progress and log; rerun the page once it has ended.

    The page stays responsive: only this fragment reruns every second. The user may leave the
    page; the job goes on in its worker process and the run is there when they come back.
    """
    store, jobs = get_store(), get_jobs()
    try:
        run = store.get(run_id)
    except Exception as exc:  # deleted from another tab
        st.warning(f"Run {run_id} is gone: {exc}")
        return
    seen_key = f"watch.{run_id}"
    if not run.active:
        if st.session_state.pop(seen_key, False):
            st.rerun(scope="app")  # the page now shows the finished run
        return
    st.session_state[seen_key] = True
    with st.container(border=True):
        left, right = st.columns([5, 1])
        if run.status == "queued":
            place = jobs.queue_position(run_id)
            where = f" (position {place + 1} in the queue)" if place is not None else ""
            left.markdown(f"**{run.name}** — {status_label('queued')}{where}")
            left.progress(0.0, text="waiting for the running job to finish")
        else:
            fraction, text = _event_text(store.read_progress(run_id))
            left.markdown(f"**{run.name}** — {status_label('running')} on {run.device or '…'}")
            left.progress(fraction, text=text)
        if right.button("Cancel", key=f"cancel.{run_id}", help="Stop this job; the run is kept "
                        "as cancelled"):
            jobs.cancel(run_id)
            st.rerun(scope="app")
        with st.expander("Log", expanded=False):
            st.code(store.read_log(run_id, tail=30) or "(empty)", language=None)


class InlineProgress:
    """Turn core ProgressEvents into an ``st.progress`` bar for work done inside the page."""

    def __init__(self, text: str = "Working…"):
        self._bar = st.progress(0.0, text=text)

    def __call__(self, event: ProgressEvent) -> None:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in event.metrics.items())
        self._bar.progress(event.fraction, text=f"{event.stage} {event.step}/{event.total}"
                           + (f" — {metrics}" if metrics else ""))

    def done(self) -> None:
        self._bar.empty()
