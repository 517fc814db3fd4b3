"""The bulletin in headless Chromium: no console errors, no request but the file, fits 375 px and 1280 px."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tasks.bulletin import produce_period
from tests.bulletin_fixtures import write_fixture

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="run scripts/ensure-chromium.sh to install chromium"
    ),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "data"
    st = write_fixture(root, "2025-08", script_name=True)
    produce_period(st, "2025-08", "id", date(2025, 9, 5), [])
    nib = next(n for n in st.listdir("processed/bulletins/2025-08/companies") if n.endswith(".html"))
    return {
        "bulletin": st.local_path("processed/bulletins/2025-08/bulletin.html"),
        "company": st.local_path(f"processed/bulletins/2025-08/companies/{nib}"),
        "archive": st.local_path("processed/bulletins/index.html"),
    }


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("which", ["bulletin", "company", "archive"])
def test_renders_clean_offline(pages, which, width):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    url = pages[which].as_uri()
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
            page.goto(url, wait_until="load")
            assert errors == []
            assert requests == [url]
            # readable on a phone: nothing wider than the viewport (wide tables scroll inside their box)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            # desktop: every table fits its column (no scrollbar); only phones may scroll a table
            overflowing = page.evaluate(
                "[...document.querySelectorAll('.table-wrap')].filter(e => e.offsetParent !== null"
                " && e.scrollWidth > e.clientWidth + 1).map(e => e.getAttribute('aria-labelledby'))"
            )
            if width >= 1280:
                assert overflowing == []
            if which == "bulletin":
                # one drawing per chart is shown (wide or phone layout), at 1:1 so text is 13/11 px in all
                shown = page.evaluate(
                    "[...document.querySelectorAll('svg[role=img]')].filter(s => s.getBoundingClientRect().width > 0)"
                    ".map(s => [s.getBoundingClientRect().width / s.viewBox.baseVal.width,"
                    " [...new Set([...s.querySelectorAll('text')].map(t => getComputedStyle(t).fontSize))]])"
                )
                assert len(shown) == 4
                assert all(abs(scale - 1) < 0.01 for scale, _ in shown)
                assert all(set(sizes) <= {"13px", "11px"} for _, sizes in shown)
                assert page.locator("figcaption").first.inner_text().startswith("Gambar 1.")
                assert page.locator("td.suppressed").count() >= 1
            if which == "company":
                assert page.locator("#rahasia").is_visible()
            page.screenshot(path=str(ARTIFACTS / f"{which}-{width}.png"), full_page=True)
        finally:
            browser.close()
