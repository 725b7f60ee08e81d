"""A biologist uploads a FASTA file with one bad record and sees the report name it."""
from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FASTA = """>sp|P69905|HBA_HUMAN Hemoglobin subunit alpha
MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHV
DDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR
>good_2 a second, fine record
MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ
>broken_7 this one has digits and a stray symbol
MKTAYIAK12QRQ#ISFVKSHFSRQ
"""


def test_upload_reports_the_bad_record(page, app_url, tmp_path):
    fasta = tmp_path / "variants.fasta"
    fasta.write_text(FASTA)
    page.goto(app_url)  # as `streamlit run app.py` opens it: Home first
    wait_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Data").click()
    page.get_by_role("heading", name="Data").wait_for()
    wait_idle(page)
    page.get_by_role("tab", name="Upload files").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(fasta))
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="broken_7")
    alert.wait_for()
    wait_idle(page)
    text = alert.inner_text()
    assert "line 6" in text and "error" in text.lower()
    assert "P69905" not in text  # the good records are not blamed
    report = page.locator('[data-testid="stDataFrame"]').first
    report.wait_for()
    shot = os.environ.get("PROTLENS_SCREENSHOT_DIR")
    if shot:
        page.screenshot(path=os.path.join(shot, "data_report.png"), full_page=True)
    # The report table is a canvas grid: check its CSV download names the record and line.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (CSV)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    broken = [line for line in text.splitlines() if "broken_7" in line]
    assert broken, text
    assert any(",6," in line or "line 6" in line for line in broken), broken
    assert "P69905" not in "".join(broken)
