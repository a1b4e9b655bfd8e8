"""Screenshots of each view of the page (``calcinosis screenshots``), taken in headless chromium.

Starts the application on a free local port, drives Debian's chromium with Playwright
(``executable_path``: no browser is downloaded) and saves ``consultation.png``,
``teaching.png`` and ``whatif.png``. :func:`launch_chromium` and :func:`load_case` are
shared with the browser tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ...errors import CalcinosisError

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOWCASE = "paparo2011_fig01_gluteal_tumoral_calcinosis"
WAIT_MS = 120_000  # a bound on every wait: the slowest step is the first lesson on a busy machine


def chromium_path() -> str:
    path = os.environ.get("CALCINOSIS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise CalcinosisError("chromium is not installed (Debian: apt-get install chromium); "
                              "set CALCINOSIS_CHROMIUM to its path if it is elsewhere.")
    return path


def launch_chromium(playwright):
    """Debian's chromium, headless, with a fresh profile folder."""
    profile = tempfile.mkdtemp(prefix="calcinosis-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 1000}, accept_downloads=True,
        bypass_csp=True)  # lets the driver evaluate its own waits; the page itself needs no exception
    return context, profile


def wait_ready(page, after: int = 0) -> int:
    """Wait until the consultation has been fully updated (a generation later than ``after``)."""
    page.wait_for_function(f"Number(document.body.dataset.ready || 0) > {after}", timeout=WAIT_MS)
    return int(page.evaluate("Number(document.body.dataset.ready)"))


def load_case(page, stem: str) -> int:
    before = int(page.evaluate("Number(document.body.dataset.ready || 0)"))
    page.select_option("#case-select", stem)
    page.wait_for_function("document.querySelector('#case-info') && !document.querySelector('#case-info').hidden",
                           timeout=WAIT_MS)
    return wait_ready(page, before)


def save_screenshots(out: Path | str = "reports/screenshots") -> list[Path]:
    from playwright.sync_api import sync_playwright

    from .server import running_server

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with running_server() as url, sync_playwright() as playwright:
        context, profile = launch_chromium(playwright)
        try:
            page = context.new_page()
            page.goto(url, timeout=WAIT_MS)
            wait_ready(page)
            load_case(page, SHOWCASE)
            paths.append(out / "consultation.png")
            page.screenshot(path=paths[-1], full_page=True)
            page.click("#tab-teach")
            page.wait_for_selector("#walkthrough .step[data-step]", timeout=WAIT_MS)
            page.wait_for_selector("#lesson h3", timeout=WAIT_MS)
            page.wait_for_selector("#network .node.observed", state="attached", timeout=WAIT_MS)
            paths.append(out / "teaching.png")
            page.screenshot(path=paths[-1], full_page=True)
            page.click("#tab-whatif")
            page.click("#show-mix")
            page.wait_for_selector("#casemix .bar-row", timeout=WAIT_MS)
            page.uncheck("#sweep-use-evidence")  # the case mix itself: P(cause | a calcification)
            page.click("#run-sweep")
            page.wait_for_selector("#sweep-chart[data-points], #sweep-error:not([hidden])", state="attached",
                                   timeout=WAIT_MS)
            paths.append(out / "whatif.png")
            page.screenshot(path=paths[-1], full_page=True)
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
    return paths


if __name__ == "__main__":
    for saved in save_screenshots():
        print(saved)


def cmd_screenshots(args) -> int:
    for path in save_screenshots(args.out):
        print(path)
    return 0


def add_commands(sub) -> None:
    """Register ``screenshots`` on the command line's sub-parsers."""
    shots = sub.add_parser("screenshots", help="save a screenshot of each view of the web page (needs chromium)")
    shots.add_argument("--out", type=Path, default=Path("reports/screenshots"),
                       help="folder (default: reports/screenshots/)")
    shots.set_defaults(run=cmd_screenshots)
