"""How long ``actviz report`` takes next to ``actviz gallery``, how big the page is, how fast it draws.

    python benchmarks/bench_report.py [--repeat N] [--skip-browser]

(a) ``actviz gallery`` and (b) ``actviz report`` (every activation, all parameter grids)
run alternately in fresh subprocesses, so that a busy machine slows both alike; the
median of N runs each is reported.  Target: b < 2 × a.

(c) The page's size (target: under 4 MB; plotly.js's cartesian bundle is 1.5 MB of it,
the full bundle would add 3.3 MB).

(d) Headless Chromium (Debian's, through Playwright) opens the page from disk; the time
from navigation start to the first drawn plot (``performance.now()`` recorded by the
page when plotly.js has drawn its first panel) and to the whole page drawn (every
panel, the overlay; ``body[data-ready]``).  Median of N fresh pages.  Target: first
plot under 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def show(label: str, times: list[float], unit: str = "s") -> float:
    med = statistics.median(times)
    print(f"{label:<52} median {med:7.3f} {unit}   (min {min(times):.3f}, max {max(times):.3f}, n={len(times)})",
          flush=True)
    return med


def browser_times(page_path: Path, repeat: int) -> tuple[list[float], list[float]] | None:
    chromium = next((c for c in ("/usr/bin/chromium", shutil.which("chromium")) if c and os.path.exists(c)), None)
    if chromium is None:
        print("(d) skipped: no Chromium at /usr/bin/chromium (scripts/setup installs it)")
        return None
    from playwright.sync_api import sync_playwright

    first, ready = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for i in range(repeat + 1):  # the first round warms the browser and the file cache
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function("window.actvizReport && window.actvizReport.firstPlot !== null", timeout=60_000)
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            if i:
                first.append(page.evaluate("window.actvizReport.firstPlot") / 1000)
                ready.append(page.evaluate("performance.now()") / 1000)
            page.close()
        browser.close()
    return first, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    py = sys.executable
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} runs each\n")
    with tempfile.TemporaryDirectory() as tmp:
        gallery = [py, "-m", "actviz", "gallery", "--out", "gallery"]
        report = [py, "-m", "actviz", "report", "-o", "report.html"]
        timed(gallery, tmp, env), timed(report, tmp, env)  # warm-up: file cache, font cache, .pyc
        ta, tb = [], []
        for _ in range(args.repeat):
            ta.append(timed(gallery, tmp, env))
            tb.append(timed(report, tmp, env))
        a = show("(a) actviz gallery (reference)", ta)
        b = show("(b) actviz report, every activation", tb)
        page = Path(tmp) / "report.html"
        size = page.stat().st_size
        print(f"(c) page size: {size / 1e6:.2f} MB ({size} bytes)")
        times = None if args.skip_browser else browser_times(page, args.repeat)
        if times is not None:
            d1 = show("(d) headless Chromium: first plot drawn", times[0])
            d2 = show("    headless Chromium: every panel drawn", times[1])
    print()
    print(f"report / gallery (b/a): {b / a:.2f}   (target < 2)")
    print(f"page size: {size / 1e6:.2f} MB   (target < 4)")
    if times is not None:
        print(f"first plot: {d1:.2f} s   (target < 2); whole page drawn: {d2:.2f} s")


if __name__ == "__main__":
    main()
