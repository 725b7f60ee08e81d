"""A method page whose built-in data set is not on this machine says so; it does not crash."""
from __future__ import annotations

import pytest

from tests.pages.conftest import open_page


@pytest.mark.parametrize("view", ["text.py", "clustering.py", "property.py", "families.py"])
def test_missing_builtin_data_gives_a_clear_message(app, workspace, monkeypatch, tmp_path, view):
    import streamlit as st

    from core import datasets

    st.cache_data.clear()  # a set loaded by an earlier test must not hide the missing one
    monkeypatch.setenv("PROTLENS_DATA", str(tmp_path / "nothing_here"))
    monkeypatch.setenv("PROTLENS_OFFLINE", "1")
    monkeypatch.setattr(datasets, "locate", lambda name, *a, **k: None)
    at = open_page(app, view)
    assert not at.exception, at.exception
    assert any("You can still upload your own data" in w.value for w in at.warning)
