"""Issue 27: the report opened in a real headless browser (Debian's Chromium, driven by its own
``--headless`` flags): it renders (a screenshot that is not blank, as tall as its content), its
script runs (the table headers it marks sortable) and the console stays silent."""

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from report_folders import sweep_folder_for

bs4 = pytest.importorskip("bs4")

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
WIDTH, HEIGHT = 1280, 9000

pytestmark = [pytest.mark.browser, pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed (apt-get install chromium)")]


def headless(*flags, page):
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                           *flags, page.as_uri()], capture_output=True, text=True, timeout=120)


def test_the_sweep_report_renders_in_a_browser_with_its_script_and_no_console_message(tmp_path_factory, tmp_path):
    page = sweep_folder_for(tmp_path_factory) / "report.html"
    shot = tmp_path / "page.png"
    rendered = headless(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page=page)
    assert shot.is_file(), rendered.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (HEIGHT, WIDTH) and pixels.std() > 10  # not blank
    painted = np.flatnonzero((pixels < 250).any(axis=1))
    assert 2500 < painted[-1] < HEIGHT - 50, painted[-1]  # the whole page: questions, tables, curves, variants, environment
    dom = headless("--dump-dom", page=page)
    headers = bs4.BeautifulSoup(dom.stdout, "html.parser").select("table.sortable th")
    assert headers and all("sortable" in th.get("class", []) for th in headers)  # the script ran and marked every header it sorts by
    console = [line for line in dom.stderr.splitlines() + rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
