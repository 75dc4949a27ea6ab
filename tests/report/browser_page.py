"""Open HTML pages in headless Chromium and say what a reader's browser would show.

Run by tests/report/test_browser.py with the development venv's Python
(.venv-dev holds playwright, from requirements-dev.lock), driving the
system's Chromium (``make setup-dev`` installs Debian's): playwright's own
browser download needs a CDN these machines cannot reach.

Usage: ``python browser_page.py CHROMIUM PAGE.html [PAGE.html ...]``. Prints
a JSON list, one object per page: ``title``; ``errors`` (console errors,
uncaught exceptions and failed requests, as text); ``sections`` (``[id,
heading]`` of each ``<section id>``); ``figures``, one per ``<img>`` and
``<svg>`` with every ``<details>`` opened: ``tag``, ``alt``, ``width`` and
``height`` (natural size, px), ``shown_width`` and ``shown_height`` (laid
out, px) and ``colors``, the distinct pixel colours (up to 16) once drawn
onto a canvas in the page; a blank figure has 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

#: Runs in the page. Images are drawn on a canvas there: data: URIs are
#: same-origin, so their pixels can be read back.
FIGURES = """async () => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const images = [...document.querySelectorAll('img')];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  const out = [];
  for (const img of images) {
    const box = img.getBoundingClientRect();
    let colors = 0;
    if (img.naturalWidth && img.naturalHeight) {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set();
      const words = new Uint32Array(pixels.buffer);
      for (let i = 0; i < words.length && seen.size < 16; i++) seen.add(words[i]);
      colors = seen.size;
    }
    out.push({tag: 'img', alt: img.alt, width: img.naturalWidth, height: img.naturalHeight,
              shown_width: box.width, shown_height: box.height, colors});
  }
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const drawn = svg.querySelectorAll('path, rect, circle, line, polyline, polygon, text, image');
    out.push({tag: 'svg', alt: svg.getAttribute('aria-label') || '', width: box.width,
              height: box.height, shown_width: box.width, shown_height: box.height,
              colors: drawn.length ? 2 : 1});
  }
  return out;
}"""

SECTIONS = """() => [...document.querySelectorAll('section[id]')].map(
  s => [s.id, (s.querySelector('h2') || {}).textContent || ''])"""


def inspect(browser, path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"exception: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url[:80]}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    result = {
        "page": str(path),
        "title": page.title(),
        "sections": page.evaluate(SECTIONS),
        "figures": page.evaluate(FIGURES),
        "errors": errors,
    }
    page.close()
    return result


def main(chromium: str, *pages: str) -> None:
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses to start as root (containers, CI)
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            results = [inspect(browser, Path(p)) for p in pages]
        finally:
            browser.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
