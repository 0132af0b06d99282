"""The README's screenshot of ``actviz report``, taken by headless Chromium.

    .venv/bin/python scripts/report_screenshot.py [--out docs/report.png] [--width 1280]

Writes a report of a few activations into a temporary directory, opens it in Debian's
Chromium through Playwright, moves ELU's α slider to 2, hovers over ELU's curves and
saves a screenshot of the panels (``--out``), then one of the property table filtered to
the non-monotonic activations with the overlay below it (``--out`` with ``-table``
added to its name).  PNGs are palette-quantised to stay small.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()

    from PIL import Image
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "actviz", "report", "elu", "gelu", "relu", "swish", "sigmoid",
                        "tanh", "-o", str(page_path)], check=True, stdout=subprocess.DEVNULL)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            values = page.evaluate("window.actvizReport.data.activations[0].params[0].values")
            page.locator('[data-param="elu.alpha"]').fill(str(values.index(2.0)))
            page.evaluate("document.querySelector('#activations').scrollIntoView()")
            box = page.locator("#plot-elu").bounding_box()
            if box:
                page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
                page.wait_for_timeout(300)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            shots = {args.out: page.screenshot()}
            page.mouse.move(0, 0)
            page.fill("#filter", "monotonic=no")
            page.evaluate("document.activeElement.blur(); document.querySelector('#table').scrollIntoView()")
            page.wait_for_timeout(300)
            shots[args.out.with_name(args.out.stem + "-table" + args.out.suffix)] = page.screenshot()
            browser.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for path, png in shots.items():
        img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        img.save(path, optimize=True)
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
