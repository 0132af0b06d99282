"""``actviz report`` in a real browser: headless Chromium (Debian's) driven by Playwright.

Playwright's own browser download cannot work on these machines; the tests use the
system's ``chromium`` (``scripts/setup`` installs it with apt) and are skipped, saying
so, only where there is none.
"""

from __future__ import annotations

import io
import math
import os
import shutil
from pathlib import Path

import pytest

from actviz.cli.app import app
from actviz.core import registry
from actviz.facts.audit import properties_of

from helpers import runner
from report_stores import write_store


def _chromium() -> str | None:
    for candidate in (os.environ.get("ACTVIZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium at /usr/bin/chromium (scripts/setup installs it with 'apt-get install chromium')",
)]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Two reports: every activation with two compare stores, and three activations without."""
    root = tmp_path_factory.mktemp("report")
    store = write_store(root / "store", "configs")
    flat = write_store(root / "flat", "flat")
    full, small = root / "full.html", root / "small.html"
    r = runner.invoke(app, ["report", "-p", "elu.alpha=1", "--results", str(store), "--results", str(flat),
                            "-o", str(full)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", "relu", "elu", "tanh", "-o", str(small)])
    assert r.exit_code == 0, r.output
    return {"full": full, "small": small}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Opened:
    """A page with the report loaded, recording console errors and every request."""

    def __init__(self, browser, path: Path, width: int = 1280, height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda req: self.requests.append(req.url))

        def guard(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:  # anything leaving the page is refused and recorded
                self.blocked.append(route.request.url)
                route.abort()

        self.page.route("**/*", guard)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=60_000)

    def cells(self, col: str) -> list[str]:
        return self.page.eval_on_selector_all(
            f'#properties tbody tr:not([hidden]) td[data-col="{col}"]', "tds => tds.map(t => t.textContent)")

    def plot(self, div_id: str) -> list[dict]:
        return self.page.evaluate(
            "id => document.getElementById(id).data.map(t => ({name: t.name, x: Array.from(t.x), "
            "y: Array.from(t.y)}))", div_id)


@pytest.fixture
def full(browser, pages):
    o = Opened(browser, pages["full"])
    yield o
    assert o.errors == [], o.errors
    assert o.blocked == [] and set(o.requests) == {o.url}, o.requests
    o.page.close()


@pytest.fixture
def small(browser, pages):
    o = Opened(browser, pages["small"])
    yield o
    assert o.errors == [], o.errors
    assert o.blocked == [] and set(o.requests) == {o.url}, o.requests
    o.page.close()


def test_loads_with_no_console_error_and_no_request(full):
    # the fixture's teardown asserts no error and no request other than the file itself
    assert full.page.title().startswith("actviz report")
    assert full.page.evaluate("window.actvizReport.firstPlot") > 0
    drawn = full.page.eval_on_selector_all("#activations .js-plotly-plot", "els => els.length")
    assert drawn == len(registry.names())


def test_one_row_per_activation(full):
    names = full.page.eval_on_selector_all("#properties tr[data-activation]", "trs => trs.map(t => t.dataset.activation)")
    assert names == registry.names()
    assert full.cells("agreement") == ["✓ agree"] * len(names)


def _num(text: str) -> float:
    return math.inf if text == "∞" else float(text.replace("−", "-"))


def test_sorting_by_a_column_and_back(full):
    full.page.click('#properties th[data-col="continuity"]')
    values = [_num(t) for t in full.cells("continuity")]
    assert values == sorted(values) and values[0] == -1 and values[-1] == math.inf
    full.page.click('#properties th[data-col="continuity"]')
    assert [_num(t) for t in full.cells("continuity")] == sorted(values, reverse=True)
    full.page.click('#properties th[data-col="activation"]')
    assert full.cells("activation") == sorted(registry.names())
    full.page.click('#properties th[data-col="activation"]')
    assert full.cells("activation") == sorted(registry.names(), reverse=True)
    # intervals sort by their lower end: relu's [0, ∞) after elu's (−1, ∞)
    full.page.click('#properties th[data-col="range"]')
    names = full.cells("activation")
    assert names.index("elu") < names.index("relu") and registry.get(names[0]).properties.range.low == -math.inf


def test_filtering(full):
    want = [n for n in registry.names() if properties_of(registry.get(n)).saturation == "both"]
    full.page.fill("#filter", "saturation=both")
    assert full.cells("activation") == want and full.cells("saturation") == ["both"] * len(want)
    assert full.page.inner_text("#shown") == f"{len(want)} of {len(registry.names())} shown"
    full.page.fill("#filter", "relu")
    assert full.cells("activation") == [n for n in registry.names() if "relu" in n]
    full.page.fill("#filter", "monotonic=no dead=yes")
    assert full.cells("activation") == [
        n for n in registry.names()
        if not properties_of(registry.get(n)).monotonic and properties_of(registry.get(n)).dead_neurons]
    full.page.fill("#filter", "")
    assert len(full.cells("activation")) == len(registry.names())


def test_filter_words_are_any_of_and_column_terms_all_of(full):
    names = registry.names()
    props = {n: properties_of(registry.get(n)) for n in names}
    full.page.fill("#filter", "gelu swish")  # words: any of them (each matches anywhere in a row)
    either = [n for n in names if "gelu" in n or "swish" in n]
    assert full.cells("activation") == either and {"gelu", "swish", "hard_swish"} <= set(either)
    full.page.fill("#filter", "gelu swish hard_tanh saturation=left")  # ... and every column term
    assert full.cells("activation") == [n for n in names if ("gelu" in n or "swish" in n or n == "hard_tanh")
                                        and props[n].saturation == "left"]
    full.page.fill("#filter", "saturation=both dead=yes")  # column terms: all of them
    assert full.cells("activation") == [n for n in names if props[n].saturation == "both" and props[n].dead_neurons]
    placeholder = full.page.get_attribute("#filter", "placeholder")
    assert "any" in placeholder and "all" in placeholder and "column=value" in placeholder
    assert "any" in full.page.get_attribute("#filter", "aria-label")


def test_parameter_control_swaps_curves_and_row(small):
    page = small.page
    slider = page.locator('[data-param="elu.alpha"]')
    values = page.evaluate("window.actvizReport.data.activations.find(a => a.name === 'elu').params[0].values")
    before = small.plot("plot-elu")
    row = 'tr[data-activation="elu"]'
    assert page.inner_text(f'{row} td[data-col="range"]') == "(−1, ∞)"
    slider.fill(str(values.index(2.0)))
    after = small.plot("plot-elu")
    assert after[0]["y"] != before[0]["y"]
    # the curve is the registry's ELU at α = 2: f(−6) = 2(e^−6 − 1)
    x, y = after[0]["x"], after[0]["y"]
    assert x[0] == -6 and y[0] == pytest.approx(2 * (math.exp(-6) - 1), rel=1e-5)
    assert page.inner_text(f'{row} td[data-col="range"]') == "(−2, ∞)"
    assert page.inner_text(f'{row} td[data-col="params"]') == "alpha=2"
    assert page.inner_text(f'{row} td[data-col="continuity"]') == "0"  # C¹ only at α = 1
    assert page.inner_text("#act-elu output") == "2"
    slider.fill(str(values.index(1.0)))
    assert page.inner_text(f'{row} td[data-col="range"]') == "(−1, ∞)"
    assert page.inner_text(f'{row} td[data-col="continuity"]') == "1"
    assert small.plot("plot-elu")[0]["y"] == before[0]["y"]


def test_choice_control_swaps_formula(full):
    page = full.page
    before = page.inner_text("#act-gelu .js-formula")
    y0 = full.plot("plot-gelu")[0]["y"]
    page.select_option('[data-param="gelu.approximate"]', label="tanh")
    assert page.inner_text("#act-gelu .js-formula") != before and "tanh" in page.inner_text("#act-gelu .js-formula")
    y1 = full.plot("plot-gelu")[0]["y"]
    assert y1 != y0 and max(abs(a - b) for a, b in zip(y0, y1)) < 1e-2  # close forms, not equal
    assert page.inner_text('tr[data-activation="gelu"] td[data-col="params"]') == "approximate=tanh"


def test_overlay_shows_the_chosen_activations(small):
    page = small.page
    for box in page.locator("[data-overlay]").all():
        box.uncheck()
    assert small.plot("overlay-plot") == []
    page.check('[data-overlay="tanh"]')
    page.check('[data-overlay="elu"]')
    assert sorted(t["name"] for t in small.plot("overlay-plot")) == ["elu", "tanh"]
    page.check('input[name="overlay-what"][value="df"]')
    traces = small.plot("overlay-plot")
    tanh = next(t for t in traces if t["name"] == "tanh")
    assert max(v for v in tanh["y"] if v is not None) == pytest.approx(1.0, abs=1e-3)  # tanh′(0) = 1
    # the overlay follows the panel's parameters
    values = page.evaluate("window.actvizReport.data.activations.find(a => a.name === 'elu').params[0].values")
    page.locator('[data-param="elu.alpha"]').fill(str(values.index(0.5)))
    assert sorted(t["name"] for t in small.plot("overlay-plot")) == ["elu(alpha=0.5)", "tanh"]


def test_training_section_with_results(full, small):
    assert small.page.locator("#training").count() == 0
    section = full.page.locator("section#training")
    assert section.is_visible()
    labels = full.page.eval_on_selector_all("#training .config:not(.sweep) h3", "hs => hs.map(h => h.textContent)")
    assert labels[:2] == ["depth=1, lr=0.1", "depth=2, lr=0.1"] and labels[2].startswith("epochs=3")
    assert full.page.locator("#training .js-plotly-plot").count() == 5 * 3 + 1  # and the sweep's heat map
    rows = full.page.eval_on_selector_all("#training .config:not(.sweep) >> nth=0 >> table.stats tbody tr",
                                          "trs => trs.map(t => t.dataset.label)")
    assert rows[:3] == ["leaky_relu(negative_slope=0.1)", "tanh", "relu"]  # by mean
    band = full.plot("train-0-0-0")
    assert any(t["name"].endswith(" band") for t in band)
    assert "points below leaky_relu" in section.inner_text()  # the verdicts, recomputed from the runs


def _variance(png: bytes) -> float:
    from PIL import Image, ImageStat

    img = Image.open(io.BytesIO(png)).convert("L")
    return ImageStat.Stat(img).var[0]


def test_screenshot_is_not_blank(full):
    assert _variance(full.page.screenshot()) > 500
    panel = full.page.locator("#act-relu")
    panel.scroll_into_view_if_needed()
    assert _variance(panel.screenshot()) > 200


def test_sweep_heat_map_and_accuracy_in_percent(full):
    sweep = full.page.evaluate("document.getElementById('sweep-0').data[0]")
    assert sweep["type"] == "heatmap" and sweep["y"] == ["depth=1, lr=0.1", "depth=2, lr=0.1"]
    stored = full.page.evaluate("window.actvizReport.data.training[0].configurations.map("
                                "c => c.rows.map(r => r.test_acc_mean))")
    assert [[round(v, 2) for v in row] for row in sweep["z"]] == [[round(100 * v, 2) for v in row] for row in stored]
    first = full.page.eval_on_selector_all("#training .config:not(.sweep) >> nth=0 >> table.stats",
                                           "ts => Array.from(ts[0].rows).map(r => r.cells[2].textContent)")
    assert first[0] == "test acc %" and float(first[1]) == pytest.approx(100 * stored[0][0], abs=0.01)
    acc = full.page.evaluate("document.getElementById('train-0-0-0').data.filter(t => !t.name.endsWith(' band'))"
                             ".map(t => t.y[t.y.length - 1])")
    assert all(50 < y <= 100 for y in acc)  # percent on the curves too


def test_phone_layout_is_readable(browser, pages):
    """At 390 px: a short header, one-line table headers, a visible hint where a table scrolls, nothing clipped."""
    o = Opened(browser, pages["full"], width=390, height=844)
    try:
        page = o.page
        assert page.evaluate("document.querySelector('header').getBoundingClientRect().height") < 80
        head = page.evaluate("document.querySelector('#properties thead').getBoundingClientRect().height")
        cell = page.evaluate("document.querySelector('#properties tbody td').getBoundingClientRect().height")
        assert head < 2 * cell, (head, cell)  # no tall band of wrapped headers
        assert page.evaluate("(() => { const w = document.querySelector('.tablewrap');"
                             " return w.scrollWidth > w.clientWidth; })()")
        assert page.locator("#table .scrollhint").is_visible()
        spill = page.eval_on_selector_all("#properties td", "tds => tds.filter(t => t.scrollWidth > t.clientWidth + 1)"
                                          ".map(t => t.textContent)")
        assert spill == []  # no cell runs into the next (negative_slope=0.01 in a narrow column)
        # the training tables: the activation column never clipped, the accuracy on screen, the hint shown
        first = page.locator("#training .config:not(.sweep)").first
        first.scroll_into_view_if_needed()
        clipped = page.eval_on_selector_all(
            "#training table.stats td:first-child", "tds => tds.filter(t => t.scrollWidth > t.clientWidth + 1).length")
        assert clipped == 0
        right = page.evaluate("document.querySelector('#training .config:not(.sweep) table.stats tr')"
                              ".cells[2].getBoundingClientRect().right")
        assert right <= 390
        assert first.locator(".scrollhint").first.is_visible()
        sweep = page.evaluate("document.getElementById('sweep-0').data[0]")
        assert sweep["y"] == ["leaky_relu(negative_slope=0.1)", "tanh", "relu"]  # names read across on a phone
        assert o.errors == []
    finally:
        o.page.close()
    wide = Opened(browser, pages["small"], width=1280, height=900)
    try:  # where a table fits, no hint
        assert not wide.page.locator("#table .scrollhint").is_visible()
    finally:
        wide.page.close()


@pytest.mark.parametrize("which", ["small", "full"])
def test_phone_width_has_no_page_wide_overflow(browser, pages, which):
    """Wide tables scroll inside their box; the page itself stays as wide as a phone."""
    o = Opened(browser, pages[which], width=390, height=844)
    try:
        width = o.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        assert o.errors == []
    finally:
        o.page.close()


def _embedded_json(opened) -> list:
    """Every JSON block of the page, parsed by the browser (an error names the block that fails)."""
    return opened.page.evaluate("""() => Array.from(document.querySelectorAll('script[type="application/json"]'))
        .map(s => { try { JSON.parse(s.textContent); return null; } catch (e) { return s.id + ': ' + e; } })""")


def test_every_embedded_json_block_parses(full, small):
    for opened in (full, small):
        problems = _embedded_json(opened)
        assert problems and all(p is None for p in problems), problems


def test_strings_that_look_like_html_round_trip_and_the_page_draws(browser, tmp_path):
    import torch

    hostile = "x <!-- </script> <b>&amp; \u2028 \u2029 -->"
    registry.register(name="html_hostile", formula=hostile, derivative_formula=hostile,
                      forward=lambda x: x * 1.0, derivative=torch.ones_like)
    try:
        page = tmp_path / "hostile.html"
        r = runner.invoke(app, ["report", "html_hostile", "relu", "-o", str(page)])
        assert r.exit_code == 0, r.output
        opened = Opened(browser, page)
        assert _embedded_json(opened) == [None]
        data = opened.page.evaluate("JSON.parse(document.getElementById('actviz-data').textContent)")
        assert hostile in json_strings(data)
        assert opened.page.eval_on_selector_all("#activations .js-plotly-plot", "els => els.length") == 2
        assert opened.errors == [], opened.errors
        opened.page.close()
    finally:
        registry.unregister("html_hostile")


def json_strings(value) -> set:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(json_strings, value.values()), set())
    if isinstance(value, list):
        return set().union(*map(json_strings, value), set())
    return set()
