"""Cached handles on the backend, shared by every page and session of this server."""
from __future__ import annotations

import streamlit as st

from core.config import Settings
from core.jobs import JobManager
from core.store import RunStore


@st.cache_resource(show_spinner=False)
def _store(home: str) -> RunStore:
    return RunStore(home)


@st.cache_resource(show_spinner=False)
def _jobs(home: str, workers: int) -> JobManager:
    return JobManager(_store(home), workers=workers)


def get_store() -> RunStore:
    settings = Settings.from_env()
    return _store(str(settings.home))


def get_jobs() -> JobManager:
    settings = Settings.from_env()
    return _jobs(str(settings.home), settings.job_workers)


@st.cache_data(show_spinner="Loading the built-in data set…", max_entries=8)
def load_builtin(name: str):
    from core.datasets import load

    return load(name)


@st.cache_data(show_spinner=False, max_entries=1, ttl=30)
def builtin_catalogue():
    from core.datasets import list_datasets

    return list_datasets()


@st.cache_data(show_spinner=False)
def device_choices() -> list[str]:
    from core.device import available_devices

    return available_devices()


@st.cache_data(show_spinner=False)
def device_description(choice: str) -> str:
    from core.device import describe_device, get_device

    return describe_device(get_device(None if choice == "auto" else choice))


@st.cache_data(show_spinner="Packing the bundle…", max_entries=2)
def run_bundle(run_id: str, finished: str | None, name: str) -> bytes:
    """A run's export zip; keyed by finish time and name so edits make a new one."""
    return get_store().export_bundle(run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def run_arrays(run_id: str, finished: str | None) -> dict:
    """A finished run's arrays (embeddings, ids…), cached per run and finish time."""
    return get_store().load_arrays(run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def run_table(run_id: str, finished: str | None, name: str):
    return get_store().load_table(run_id, name)


@st.cache_data(show_spinner="Projecting the embedding…", max_entries=16)
def run_projection(run_id: str, finished: str | None, array: str, method: str,
                   perplexity: float, n_neighbors: int, min_dist: float, seed: int):
    """2-D coordinates of one array of a run (cached per run and parameters)."""
    from core.projection import ProjectionConfig, project

    cfg = ProjectionConfig(method=method, perplexity=perplexity, n_neighbors=n_neighbors,
                           min_dist=min_dist, seed=seed)
    return project(run_arrays(run_id, finished)[array], cfg)


@st.cache_resource(show_spinner="Loading the trained model…", max_entries=4)
def property_model(run_id: str, finished: str | None):
    """A finished property run rebuilt for prediction (shared and read-only: never trained)."""
    from core.tasks.property import load_property_model

    return load_property_model(get_store(), run_id)


@st.cache_data(show_spinner=False, ttl=60)
def encoder_choices() -> list[dict]:
    """Sequence encoders and whether each can run on this machine."""
    from core.encoders import encoder_status

    return encoder_status()
