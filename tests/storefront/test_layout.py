"""Every storefront page at a phone's (390 px) and a laptop's (1366 px) width, served by gunicorn:
nothing scrolls sideways, the main navigation is all on screen, the content keeps clear of the
header and the footer, tick boxes sit beside their labels, nothing the page needs is over
100 KB before images, every resource loads, the Content-Security-Policy refuses nothing and
no script fails. A full-page screenshot of each page at each width is saved under
artifacts/screenshots/storefront/ for people to look at.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.admin.browser_support import SCREENSHOTS
from tests.storefront.tour import EMPLOYEE, shop_data, stops, visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The pages are the same on every engine; the server they need cannot share in-memory
    # SQLite, so they are checked once, in the MariaDB pass (the CI budget: docs/storefront.md).
    pytest.mark.skipif(
        connection.vendor != "mysql",
        reason="the pages are the same on every engine: checked once, in the MariaDB pass",
    ),
]

WIDTHS = {"phone": (390, 844), "laptop": (1366, 900)}
PAGE_BUDGET = 100 * 1024  # bytes of HTML, CSS and JavaScript a page needs, images aside
STOREFRONT_SHOTS = SCREENSHOTS / "storefront"

# What the page needs besides its HTML: stylesheets and scripts (images and the icon excluded).
PAGE_ASSETS = """() => [
  ...[...document.querySelectorAll('link[rel~="stylesheet"][href]')].map((l) => l.href),
  ...[...document.querySelectorAll('script[src]')].map((s) => s.src),
]"""
# Lazy images load when they come near the viewport: scroll through the page so that the
# full-page screenshot shows them, then wait (bounded) until they have loaded.
LOAD_LAZY_IMAGES = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
    window.scrollTo(0, y);
    await new Promise((r) => setTimeout(r, 30));
  }
  window.scrollTo(0, 0);
  const pending = [...document.images].filter((i) => !i.complete)
    .map((i) => new Promise((r) => { i.onload = i.onerror = r; }));
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 3000))]);
}"""

# Room around the page's own content: from the header's bottom to the first thing seen in
# <main>, and from the last one to the footer. Seen: an element with no child elements (text,
# an image, a field) or one drawn with a background or a border (a panel, a card); boxes of a
# pixel or less, such as text kept for screen readers only, do not count.
CONTENT_GAPS = """() => {
  const drawn = (e) => {
    const s = getComputedStyle(e);
    return s.backgroundColor !== 'rgba(0, 0, 0, 0)' || parseFloat(s.borderTopWidth) > 0
      || parseFloat(s.borderBottomWidth) > 0;
  };
  const boxes = [...document.querySelectorAll('main *')]
    .filter((e) => e.children.length === 0 || drawn(e))
    .map((e) => e.getBoundingClientRect()).filter((r) => r.width > 1 && r.height > 1);
  const header = document.querySelector('.site-header'), footer = document.querySelector('.site-footer');
  return [
    header ? Math.min(...boxes.map((r) => r.top)) - header.getBoundingClientRect().bottom : null,
    footer ? footer.getBoundingClientRect().top - Math.max(...boxes.map((r) => r.bottom)) : null,
  ];
}"""
MIN_GAP_ABOVE, MIN_GAP_BELOW = 12, 24
# Each tick box on the same line as its label (the label may wrap beside it, not under it).
CHECKBOXES_OFF_THEIR_LABEL = """() => [...document.querySelectorAll('input[type=checkbox]')]
  .filter((i) => i.labels.length && i.getBoundingClientRect().height > 0)
  .filter((i) => {
    const box = i.getBoundingClientRect(), label = i.labels[0].getBoundingClientRect();
    return !(label.top < box.bottom && label.bottom > box.top);
  }).map((i) => i.id)"""

# A product picture's box, when it paints a background, is no wider than the picture (a white
# strip showed beside the product page's image, square behind its rounded corners).
PICTURE_STRIPS = """() => [...document.querySelectorAll('.product__image, .card__image')]
  .filter((box) => getComputedStyle(box).backgroundColor !== 'rgba(0, 0, 0, 0)')
  .filter((box) => { const img = box.querySelector('img');
    return img && box.getBoundingClientRect().width > img.getBoundingClientRect().width + 1; })
  .map((box) => box.className)"""

# Product cards lay out price and stock the same way, all side by side or all stacked (a wrap
# where one card's line was too long made neighbouring cards differ).
CARD_META_LAYOUTS = """() => [...new Set([...document.querySelectorAll('.card__meta')].map((meta) => {
  const [price, stock] = [...meta.children].map((e) => e.getBoundingClientRect());
  return stock && stock.top >= price.bottom ? 'stacked' : 'side by side';
}))]"""


class AssetSizes:
    """Bytes of each stylesheet and script, fetched once (the browser's cache hides repeats)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.sizes: dict[str, int] = {}

    def __call__(self, url: str) -> int:
        if url not in self.sizes:
            response = self.context.request.get(url)
            assert response.ok, f"{url} answered {response.status}"
            self.sizes[url] = len(response.body())
        return self.sizes[url]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_storefront_page_fits_the_screen_stays_light_and_is_photographed(
    browser, storefront_server, width
):
    data = shop_data()
    w, h = WIDTHS[width]
    STOREFRONT_SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": w, "height": h})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    weights: list[str] = []
    page_errors: list[str] = []
    documents: list[Any] = []
    page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(f"script error: {e}"))
    page.on("response", lambda r: documents.append(r) if r.request.resource_type == "document" else None)
    asset_size = AssetSizes(context)
    try:
        for stop in stops(data):
            page_errors.clear()
            documents.clear()
            visit(page, storefront_server.url, data, stop)
            label = f"{stop.name} at {w}px"

            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll_width > inner_width:
                problems.append(f"{label}: scrolls sideways ({scroll_width}px wide in {inner_width}px)")

            above, below = page.evaluate(CONTENT_GAPS)
            if above is not None and above < MIN_GAP_ABOVE:
                problems.append(f"{label}: the content starts {above:.0f}px below the header")
            if below is not None and below < MIN_GAP_BELOW:
                problems.append(f"{label}: the content ends {below:.0f}px above the footer")
            layouts = page.evaluate(CARD_META_LAYOUTS)
            if len(layouts) > 1:
                problems.append(f"{label}: product cards differ: price and stock {layouts}")
            for box in page.evaluate(PICTURE_STRIPS):
                problems.append(f"{label}: .{box} paints a strip beside its picture")
            for box in page.evaluate(CHECKBOXES_OFF_THEIR_LABEL):
                problems.append(f"{label}: the tick box #{box} is not on its label's line")

            document_bytes = len(documents[-1].body())
            total = document_bytes + sum(asset_size(url) for url in page.evaluate(PAGE_ASSETS))
            weights.append(f"{stop.name}: {total / 1024:.1f} KB")
            if total > PAGE_BUDGET:
                problems.append(f"{label}: {total} bytes before images, over {PAGE_BUDGET}")

            # A refused stylesheet, image or script is a console error naming the policy, a
            # missing one "Failed to load resource"; on a page answered with an error status (a
            # 404, or a refused order's 409) that message is the page's own status, as intended.
            page_ok = documents[-1].status < 400
            for message in page_errors:
                if page_ok or "Failed to load resource" not in message:
                    problems.append(f"{label}: {message}")

            if stop.who == EMPLOYEE:
                links = page.locator("nav.site-nav a")
                assert links.count() == 5, f"{label}: the main navigation has {links.count()} links"
                for i in range(links.count()):
                    box = links.nth(i).bounding_box()
                    if box is None or box["x"] < 0 or box["x"] + box["width"] > inner_width:
                        problems.append(f"{label}: '{links.nth(i).inner_text()}' is not on screen")

            page.evaluate(LOAD_LAZY_IMAGES)
            page.screenshot(path=str(STOREFRONT_SHOTS / f"{stop.name}-{w}.png"), full_page=True)
    finally:
        context.close()
    print(f"page weight at {w}px (HTML + CSS + JS):", "; ".join(weights))
    assert len(weights) == len(stops(data))
    assert not problems, "\n".join(problems)
