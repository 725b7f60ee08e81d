"""Home page."""
from __future__ import annotations


def test_home_is_the_default_page_and_leads_to_data_and_runs(app):
    at = app.run()  # no page chosen: Home is the default
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "See what deep models learn about proteins" in text
    assert "Bring data" in text and "Revisit runs" in text
    assert any("Data set" in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox[0].label == "Device"
    assert at.sidebar.number_input[0].value == 0


def test_sidebar_seed_reaches_session_state(app):
    # AppTest (Streamlit 1.67) drops sidebar elements drawn before st.navigation's page on
    # reruns, so the sidebar is checked on the first run and its effect through state.
    at = app.run()
    assert at.sidebar.number_input[0].key == "app.w.seed"
    at.session_state["app.w.seed"] = 42  # as if typed into the sidebar
    at.switch_page("pages/views/runs.py").run()
    assert not at.exception
    assert at.session_state["app.seed"] == 42
