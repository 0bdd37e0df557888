"""Real-browser test of the lecture widgets: JupyterLab + headless Chromium (Debian's package).

What it does, in about half a minute:

1. copies a lecture notebook into a temporary folder (so nothing in the repo is touched or
   autosaved) and starts JupyterLab there on a free localhost port with a random token, with its
   own config/runtime/settings folders;
2. opens the notebook in headless Chromium driven by Playwright (the browser binary is the system
   one: ``$CHROMIUM_PATH`` or ``/usr/bin/chromium``; Playwright never downloads a browser here);
3. runs every cell, waits until the kernel is idle, and checks that every widget rendered (no
   "Error displaying widget", no cell error);
4. moves a slider with the keyboard and checks that the picture shown next to it changed (new
   image data from the kernel, different pixels on screen);
5. saves screenshots (``$CNN_COURSE_SCREENSHOTS`` if set, else pytest's tmp folder) and stops the
   browser and the server (and so its kernel) by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LECTURE = REPO / "course" / "week1" / "01_Edges_and_the_Convolution_Operation.ipynb"
LECTURE_4 = REPO / "course" / "week1" / "04_What_a_ConvNet_Sees.ipynb"
# Every other lecture (all weeks) goes through the generic test at the end of this file; 01 and 04 of
# week 1 have tests of their own above it.
OTHER_LECTURES = [p for p in sorted(REPO.glob("course/week*/*.ipynb")) if p not in (LECTURE, LECTURE_4)]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("No Chromium found: install Debian's package (apt-get install chromium; "
                "`bash course.sh test` does it when run as root) or set CHROMIUM_PATH.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve_notebook(notebook: Path | list[Path], tmp_path: Path):
    """Run a JupyterLab server on localhost serving a temporary copy of ``notebook`` (or of each
    notebook of a list, under its week's folder).

    Yields {"url": URL that opens the (first) notebook, "urls": {path: URL}, "log": server log path,
    "tmp": tmp_path}.
    """
    work = tmp_path / "work"
    work.mkdir()
    notebooks = notebook if isinstance(notebook, list) else [notebook]
    where = {}
    for path in notebooks:
        relative = Path(path.name) if len(notebooks) == 1 else Path(path.parent.name) / path.name
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, work / relative)
        where[path] = relative.as_posix()
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No news / update checks (they would try the network and pop up a toast).
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Every cell in the page (JupyterLab 4 otherwise renders only cells near the viewport), so the
    # tests can look at all the outputs without scrolling.
    notebook_settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)
    (notebook_settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
    })
    log = tmp_path / "jupyterlab.log"
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
             "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
             f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
            + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            cwd=work, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", server, log)
        # one JupyterLab workspace per notebook: a page opens its notebook alone, not the ones before it
        urls = {path: f"http://127.0.0.1:{port}/lab/workspaces/nb{i}/tree/{relative}?token={token}"
                for i, (path, relative) in enumerate(where.items())}
        yield {"url": urls[notebooks[0]], "urls": urls, "log": log, "tmp": tmp_path}
    finally:
        # Our own server only, by its process group id (it started its kernel in that group).
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
            if server.poll() is not None:
                break
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def jupyterlab(tmp_path):
    with serve_notebook(LECTURE, tmp_path) as server:
        yield server


@pytest.fixture
def jupyterlab_lecture_4(tmp_path):
    with serve_notebook(LECTURE_4, tmp_path) as server:
        yield server


KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""

ALL_CELLS_RUN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const k = w.sessionContext.session.kernel;
  return cells.length > 0 && k.status === 'idle' &&
         cells.every(c => c.model.executionCount !== null && c.model.executionCount > 0);
}"""


def launch(playwright, profile: Path):
    """Debian's Chromium, headless, with a fresh profile folder."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1300, "height": 1000})


def open_and_run(page, url: str, timeout_ms: int = 90_000) -> None:
    """Open the notebook, wait for its kernel, run all cells and wait until all have run."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_CELLS_RUN, timeout=timeout_ms, polling=500)


def test_lecture_widgets_render_and_react_in_chromium(jupyterlab):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("CNN_COURSE_SCREENSHOTS") or jupyterlab["tmp"] / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with sync_playwright() as p:
        context = launch(p, jupyterlab["tmp"] / "chromium-profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            console_errors = []
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            open_and_run(page, jupyterlab["url"])
            page.screenshot(path=str(shots / "lecture1_after_run.png"))

            outputs = page.locator(".jp-OutputArea-output")
            text = page.locator(".jp-Notebook").inner_text()
            assert "Error displaying widget" not in text, "a widget failed to render"
            assert page.locator(".jp-OutputArea-output.jp-RenderedText[data-mime-type="
                                "'application/vnd.jupyter.error']").count() == 0, "a cell raised"
            assert outputs.count() > 0
            # Both widgets of the lecture are there and drawn (ipywidgets 8 renderer in Lab 4).
            edge = page.locator(".widget-vbox").filter(has=page.locator(".widget-label", has_text="photo")).first
            flip = page.locator(".widget-vbox").filter(
                has=page.locator(".widget-label", has_text="bright dots")).first
            for widget, name in ((edge, "edge_explorer"), (flip, "flip_explorer")):
                widget.scroll_into_view_if_needed()
                image = widget.locator("img").first
                image.wait_for(state="visible", timeout=30_000)
                page.wait_for_function("img => img.complete && img.naturalWidth > 100",
                                       arg=image.element_handle(), timeout=30_000)
                widget.screenshot(path=str(shots / f"{name}.png"))

            # Move the slider one step with the keyboard and watch the picture change.
            image = flip.locator("img").first
            src_before = image.get_attribute("src")
            pixels_before = image.screenshot()
            readout = flip.locator(".widget-readout").first
            value_before = readout.inner_text()
            handle = flip.locator(".noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                                   arg=[image.element_handle(), src_before], timeout=30_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 100",
                                   arg=image.element_handle(), timeout=30_000)
            assert readout.inner_text() != value_before, "the slider did not move"
            pixels_after = image.screenshot()
            assert pixels_after != pixels_before, "the picture did not change after moving the slider"
            flip.screenshot(path=str(shots / "flip_explorer_after_slider.png"))
            assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
            widget_errors = [e for e in console_errors if "widget" in e.lower()]
            assert not widget_errors, f"widget errors in the browser console: {widget_errors}"
        finally:
            context.close()
    elapsed = time.monotonic() - start
    print(f"browser part took {elapsed:.1f} s; screenshots in {shots}")


@contextlib.contextmanager
def narrow_page(playwright, server, width: int = 900):
    """A Chromium page ``width`` px wide on ``server``'s notebook with every cell run and no widget
    failing to display; the browser is closed afterwards."""
    context = launch(playwright, server["tmp"] / "chromium-profile")
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_viewport_size({"width": width, "height": 1000})
        open_and_run(page, server["url"], timeout_ms=240_000)
        assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
        yield page
        # The server may serve more lectures: free this one's kernel (a TensorFlow kernel holds ~0.5 GB).
        page.evaluate("window.jupyterapp.serviceManager.sessions.shutdownAll()")
    finally:
        context.close()


# Shown size vs the PNG's own size of every picture in an element (a picture drawn with another
# aspect ratio than its PNG is squeezed), and its right edge vs its output area's (a picture past
# it is cut off: output areas hide what overflows).
SHOWN_SIZES = """el => Array.from(el.querySelectorAll('img')).filter(i => i.naturalWidth > 0).map(i => {
  const r = i.getBoundingClientRect();
  const out = i.closest('.jp-OutputArea-output').getBoundingClientRect();
  return {shown: [r.width, r.height], natural: [i.naturalWidth, i.naturalHeight],
          right: r.right, output_right: out.right};
})"""


def test_activation_visualiser_pictures_keep_their_shape_and_follow_the_channel(jupyterlab_lecture_4):
    """Lecture 4 in a narrow window: each picture of the ActivationVisualiser is drawn whole, with its
    PNG's aspect ratio (within 3%) and inside its output area (side-by-side pictures that do not fit
    go below each other), and moving the channel slider redraws the enlarged channel."""
    from playwright.sync_api import sync_playwright

    server = jupyterlab_lecture_4
    shots = Path(os.environ.get("CNN_COURSE_SCREENSHOTS") or server["tmp"] / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, narrow_page(p, server) as page:
        visualiser = page.locator(".widget-vbox").filter(
            has=page.locator(".widget-label", has_text="channel")).first
        visualiser.scroll_into_view_if_needed()
        images = visualiser.locator("img")
        images.last.wait_for(state="visible", timeout=30_000)
        page.wait_for_function("el => Array.from(el.querySelectorAll('img')).length >= 3 && "
                               "Array.from(el.querySelectorAll('img')).every(i => i.complete && i.naturalWidth > 50)",
                               arg=visualiser.element_handle(), timeout=30_000)
        visualiser.screenshot(path=str(shots / "activation_visualiser.png"))
        assert len(assert_pictures_whole(visualiser)) >= 3

        zoom = images.last
        src_before = zoom.get_attribute("src")
        handle = visualiser.locator(".noUi-handle").last  # image slider first, channel slider last
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                               arg=[zoom.element_handle(), src_before], timeout=30_000)
        visualiser.screenshot(path=str(shots / "activation_visualiser_channel_1.png"))
        assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()


def assert_pictures_whole(element):
    """Assert that every loaded picture in ``element`` (a Playwright locator) is shown whole and
    unsqueezed; return their sizes."""
    sizes = element.evaluate(SHOWN_SIZES)
    for size in sizes:
        (w, h), (nw, nh) = size["shown"], size["natural"]
        assert w > 0 and h > 0, f"a picture is not shown: {size}"
        assert abs((w / h) / (nw / nh) - 1) < 0.03, f"a picture is squeezed: {size}"
        # 3 px: ipywidgets' own 2 px margin around a widget that is 100% wide
        assert size["right"] <= size["output_right"] + 3, f"a picture is cut off on the right: {size}"
    return sizes


@pytest.fixture(scope="module")
def lectures_server(tmp_path_factory):
    """One JupyterLab server for all the lectures of the generic test (a server start costs seconds)."""
    with serve_notebook(OTHER_LECTURES, tmp_path_factory.mktemp("lectures")) as server:
        yield server


@pytest.mark.parametrize("lecture", OTHER_LECTURES, ids=lambda p: f"{p.parent.name}-{p.stem[:2]}")
def test_lecture_runs_in_a_narrow_window_and_its_first_widget_reacts(lecture, lectures_server, tmp_path):
    """Each lecture in a 900 px window: every cell runs, every widget renders, every picture is
    whole and unsqueezed, and moving the first slider changes what its widget shows."""
    from playwright.sync_api import sync_playwright

    server = dict(lectures_server, url=lectures_server["urls"][lecture], tmp=tmp_path)
    with sync_playwright() as p, narrow_page(p, server) as page:
        notebook = page.locator(".jp-Notebook")
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'],"
                            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0, \
            "a cell raised or wrote to stderr"
        page.wait_for_function("el => Array.from(el.querySelectorAll('img')).every(i => i.complete)",
                               arg=notebook.element_handle(), timeout=30_000)
        assert len(assert_pictures_whole(notebook)) >= 1
        widget = page.locator(".jp-OutputArea-output").filter(has=page.locator(".noUi-handle")).first
        handle = widget.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        # What the widget shows: its pictures' data, or (a widget of tables only) its HTML without the
        # sliders' own read-outs, which change at once whether or not the kernel redraws anything.
        shown = """el => {
          const imgs = Array.from(el.querySelectorAll('img')).map(i => i.getAttribute('src') || '');
          if (imgs.length) return imgs.join('|');
          const copy = el.cloneNode(true);
          copy.querySelectorAll('.widget-slider, .widget-readout, .widget-label').forEach(n => n.remove());
          return copy.innerHTML;
        }"""
        before = widget.evaluate(shown)
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function(f"([el, old]) => ({shown})(el) !== old",
                               arg=[widget.element_handle(), before], timeout=30_000)
        shots = Path(os.environ.get("CNN_COURSE_SCREENSHOTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{lecture.parent.name}_{lecture.stem[:2]}_after_slider.png"))
        assert "Error displaying widget" not in notebook.inner_text()
