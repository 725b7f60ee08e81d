"""Data page, against the real backend."""
from __future__ import annotations

import pytest

from tests.conftest import shared_data_or_skip
from tests.pages.conftest import open_page


@pytest.mark.slow
def test_builtin_set_is_validated_previewed_and_made_active(app):
    shared_data_or_skip("absorption")
    at = open_page(app, "data.py")
    assert not at.exception
    at.selectbox(key="data.w.builtin").set_value("absorption").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Records"] == "81" and labels["Sequences"] == "81"
    assert labels["Errors"] == "0"
    assert any("absorption: no problems found" in s.value for s in at.success)
    at.button(key="data.w.use_builtin").click().run()
    active = at.session_state["app.dataset"]
    assert active["name"] == "absorption" and active["n"] == 81
    assert any("**absorption** (81 sequences) is the active data set" in s.value
               for s in at.success)


def test_kept_datasets_tab_lists_workspace_sets(app, workspace):
    import pandas as pd

    from core.store import RunStore

    RunStore(workspace).save_dataset(pd.DataFrame({"id": ["a"], "sequence": ["MKV"]}),
                                     name="kept one", fingerprint="f" * 32)
    at = open_page(app, "data.py")
    assert not at.exception
    assert any("kept one" in m.value for m in at.markdown)
    use = [b for b in at.button if b.key and b.key.startswith("data.w.kept.use.")]
    use[0].click().run()
    assert at.session_state["app.dataset"]["name"] == "kept one"


def test_deleting_a_kept_set_asks_first_and_clears_it_if_active(app, workspace):
    import pandas as pd

    from core.store import RunStore

    store = RunStore(workspace)
    key = store.save_dataset(pd.DataFrame({"id": ["a"], "sequence": ["MKV"]}), name="old",
                             fingerprint="e" * 32)
    at = open_page(app, "data.py")
    at.button(key=f"data.w.kept.use.{key}").click().run()
    at.button(key=f"data.w.kept.del.{key}").click().run()
    assert store.list_datasets()  # asked, not yet deleted
    assert any("Delete the kept data set" in w.value for w in at.warning)
    at.button(key=f"data.w.kept.yes.{key}").click().run()
    assert store.list_datasets() == []
    assert at.session_state["app.dataset"] is None
