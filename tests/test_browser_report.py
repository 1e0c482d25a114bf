"""The report in a real browser: Debian's headless Chromium renders the GO and the NO-GO demo
reports, with no console error, no request leaving the page, and a screenshot kept.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3
in, fd 4 out, NUL-separated JSON), so no driver, websocket library or downloaded browser is
needed. Without ``/usr/bin/chromium`` (``apt-get install chromium``) the tests skip.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Debian's package by default; CUTOVER_CHROMIUM names another Chromium build (CI runners' Chrome).
CHROMIUM = os.environ.get("CUTOVER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BASH = shutil.which("bash") or "/bin/bash"  # dash takes only one-digit fds in redirections
TIMEOUT_S = 60.0
# The probe's flags for this machine: no sandbox as root, and nothing that phones home (its
# refused connections would otherwise show up as errors).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


class Chromium:
    """One headless Chromium, spoken to over the DevTools pipe; each test opens its own page
    in it (``Page``), in a browser context of its own."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # bash moves our pipe ends to fds 3 and 4 and execs Chromium (no preexec_fn,
        # which is unsafe with threads); lifting them above 9 first keeps `3<&r 4>&w` from
        # overwriting one with the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
        self.proc = subprocess.Popen(
            [
                BASH, "-c", f'exec "$0" "$@" 3<&{ends[0]} 4>&{ends[1]}',
                CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=ends,
        )  # fmt: skip
        for fd in ends:
            os.close(fd)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with contextlib.suppress(OSError):  # closed under us at the end of the module
            self._pump(buffer)
        self._inbox.put(None)  # the browser went away

    def _pump(self, buffer: bytes) -> None:
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        while True:
            event = self._receive()
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def _receive(self) -> dict[str, Any]:
        try:
            message = self._inbox.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(f"Chromium said nothing for {TIMEOUT_S:.0f} s") from None
        if message is None:
            raise AssertionError("Chromium closed the DevTools pipe")
        return message

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # it may close the pipe before answering
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


class Page:
    """One page in a fresh browser context (no cookies, storage or cache from another test);
    what it reports is only what its own session sent."""

    def __init__(self, chromium: Chromium) -> None:
        self._chromium = chromium
        self._context = chromium.call("Target.createBrowserContext")["browserContextId"]
        target = chromium.call(
            "Target.createTarget", url="about:blank", browserContextId=self._context
        )["targetId"]
        self.session = chromium.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")
        # Whatever a page asks for, nothing leaves the machine; the attempt is still reported.
        self.page("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*"])

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for e in self._chromium.events if e.get("sessionId") == self.session]

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self._chromium.call(method, self.session, **params)

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> None:
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.page("Page.navigate", url=url)
        self._chromium.wait_for("Page.loadEventFired", self.session)

    def evaluate(self, expression: str) -> Any:
        reply = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        """The whole page, not just the viewport."""
        size = self.page("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.page(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def pdf(self, path: Path) -> Path:
        printed = self.page("Page.printToPDF", printBackground=True)
        path.write_bytes(base64.b64decode(printed["data"]))
        return path

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, failed loads and any request off the page."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                texts = [str(a.get("value", a.get("description"))) for a in params["args"]]
                found.append("console: " + " ".join(texts))
            elif method == "Runtime.exceptionThrown":
                found.append("exception: " + str(params["exceptionDetails"].get("text")))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    found.append(f"request off the page: {url}")
            elif method == "Network.loadingFailed":
                found.append(f"failed load: {params.get('errorText')}")
        return found

    def close(self) -> None:
        self._chromium.call("Target.disposeBrowserContext", browserContextId=self._context)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One Chromium for the module: starting one is the slow part, a page is not."""
    started = Chromium(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Page]:
    opened = Page(chromium)
    try:
        yield opened
    finally:
        opened.close()


FACTS_BODY = """(() => {
  const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.innerText.trim());
  return {
    title: document.title,
    h1: text("h1"),
    verdict: (() => {
      const title = document.querySelector(".verdict-title");
      const chip = title.querySelector(".signoff-chip");
      return title.textContent.replace(chip ? chip.textContent : "", "").trim();
    })(),
    chip: text(".signoff-chip")[0] || "",
    deciding: text(".verdict-checks li code"),
    signoff: text(".signoff-status")[0] || "",
    open: document.querySelectorAll("details[open]").length,
    tablesWithoutCaption: [...document.querySelectorAll("table")].filter((t) => !t.caption)
      .length,
    overflowsSideways: document.documentElement.scrollWidth > window.innerWidth,
    verdictColour: getComputedStyle(document.querySelector(".verdict")).backgroundColor,
    headingSkips: (() => {
      const levels = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map((h) => +h.tagName[1]);
      return levels.filter((level, i) => i > 0 && level > levels[i - 1] + 1).length;
    })(),
    headersWithoutScope: [...document.querySelectorAll("th:not([scope])")].length,
    lowContrast: lowContrast(),
  };
})()"""

# WCAG 2.1 contrast of every element that shows text of its own (SVG drawings aside) against
# the first opaque background behind it: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
CONTRAST = """
function lowContrast() {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && +style.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) found.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
  }
  return found;
}
"""
FACTS = CONTRAST + FACTS_BODY


@pytest.mark.parametrize(
    ("run", "verdict", "colour"),
    [("go", "GO", "rgb(218, 251, 225)"), ("nogo", "NO-GO", "rgb(255, 235, 233)")],
)
def test_the_demo_report_renders_cleanly_in_chromium(
    browser: Page, demo_reports: Any, tmp_path: Path, run: str, verdict: str, colour: str
) -> None:
    report = Path(getattr(demo_reports, run)) / "report.html"
    browser.open(report.as_uri())
    facts = browser.evaluate(FACTS)
    shot = browser.screenshot(tmp_path / f"{run}.png")

    assert browser.problems() == []
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 20_000  # a real page, not a blank one
    assert facts["verdict"].endswith(f"Verdict: {verdict}")
    assert facts["chip"] == "Unsigned"
    assert facts["verdictColour"] == colour  # the stylesheet was applied
    assert facts["signoff"] == "Unsigned"
    assert facts["h1"] == ["Cutover report: " + facts["title"].split(" · ")[1]]
    assert facts["tablesWithoutCaption"] == 0
    assert facts["headingSkips"] == 0
    assert facts["headersWithoutScope"] == 0
    assert facts["lowContrast"] == []
    assert not facts["overflowsSideways"]
    if verdict == "GO":
        assert facts["deciding"] == []
        assert facts["open"] == 0  # nothing to read closely: every drill-down closed
    else:
        assert "schema[people]" in facts["deciding"]
        assert "rows[accounts]" in facts["deciding"]
        assert facts["open"] == len(facts["deciding"])  # each deciding check opens at once


def test_the_no_go_report_prints(browser: Page, demo_reports: Any, tmp_path: Path) -> None:
    browser.open((Path(demo_reports.nogo) / "report.html").as_uri())
    pdf = browser.pdf(tmp_path / "nogo.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert browser.problems() == []


def test_the_signed_page_renders_its_verified_block(
    browser: Page, demo_reports: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from harness.cli import main
    from harness.signoff import write_keypair

    folder = tmp_path / "run"
    shutil.copytree(demo_reports.go, folder)
    keys = write_keypair(tmp_path / "k.key", tmp_path / "k.pub")
    signed = CliRunner().invoke(
        main,
        [
            "sign", str(folder / "results.json"), "--key", str(keys.private),
            "--reviewer", "Ana Reviewer <ana@example.com>", "--decision", "approve",
        ],
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    browser.open((folder / "signoff.html").as_uri())
    browser.screenshot(tmp_path / "signed.png")
    facts = browser.evaluate(FACTS)
    assert browser.problems() == []
    assert facts["signoff"] == "Signed and verified"
    assert facts["chip"] == "Signed and verified: approved by Ana Reviewer"


def test_the_check_itself_catches_console_errors_and_outside_requests(
    browser: Page, tmp_path: Path
) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><title>x</title>"
        '<script>console.error("boom"); undefinedFunction();</script>'
        '<img src="http://127.0.0.1:9/pixel.png" alt="">'
        '<p style="color: #c8c8c8">faint</p><p style="color: #595959">dark enough</p>',
        encoding="utf-8",
    )
    browser.open(page.as_uri())
    problems = browser.problems()
    assert "console: boom" in problems
    assert any(p.startswith("exception: Uncaught") for p in problems)
    assert "request off the page: http://127.0.0.1:9/pixel.png" in problems
    (faint,) = browser.evaluate(CONTRAST + "lowContrast()")
    assert faint.startswith("P.: 1.")  # #c8c8c8 on white is 1.7:1; #595959 (7:1) passes
