"""Stored-XSS payloads (#6) and the checks that prove a page kept them as text.

Executable payloads set `window.__xss` (and call alert, which the page guard records as a dialog),
so a payload that ran is seen whether or not a dialog was shown. The checks also look for any
element or attribute a payload would have created, and for links with a scheme other than http(s).
"""
from __future__ import annotations

CANARY = "window.__xss=1"
TEXTS = [
    f"<script>{CANARY};alert(1)</script> scripted",
    f'<img src=x onerror="{CANARY};alert(1)"> image',
    f"</script><script>{CANARY};alert(1)</script> closed",
    f'<a href="javascript:{CANARY};alert(1)">click me</a> linked',
    f"javascript:{CANARY};alert(1)",
    f'"><svg onload="{CANARY}"><b onmouseover="{CANARY}">bold</b>',
    "{{7*7}} and ${7*7} and {% if 1 %}jinja{% endif %}",
    "$\\alert{1}$ and $$x^2$$ maths",
    "<b>bold</b> <i>it</i> <br> plotly-style tags",
]
AUTHORS = [f'<img src=x onerror="{CANARY}">', "</script><script>alert(1)</script>", "$$x$$",
           "{{7*7}}", f"javascript:{CANARY}"]
URLS = [f"javascript:{CANARY};alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
        f'https://example.com/"><img src=x onerror="{CANARY}">', "https://example.com/$$x$$",
        "//evil.example/path"]
NAME = f'Acme <img src=x onerror="{CANARY}"> $$x$$ {{{{7*7}}}}'
RULE_NAME = f'Rule <script>{CANARY}</script> <b onmouseover="alert(1)">x</b> $y$'

# What a payload that turned into markup would leave in the DOM; plus links whose resolved scheme
# is not http(s), in HTML and in SVG (Plotly renders hover and annotation text as SVG).
INERT_CHECK = """() => {
  const found = [];
  if (window.__xss !== undefined) found.push('window.__xss = ' + window.__xss);
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      if (/^on/i.test(attr)) found.push(`${el.tagName} has ${attr}`);
    }
  }
  for (const s of document.querySelectorAll('script')) {
    if (!s.src && s.type !== 'application/json') found.push('inline script: ' + s.textContent.slice(0, 80));
  }
  for (const img of document.querySelectorAll('img')) {
    if (img.getAttribute('src') === 'x') found.push('injected img');
  }
  for (const el of document.querySelectorAll('iframe, object, embed')) found.push('injected ' + el.tagName);
  for (const a of document.querySelectorAll('a, area')) {
    const raw = a.getAttribute('href') || a.getAttribute('xlink:href');
    if (raw === null) continue;
    let scheme;
    try { scheme = new URL(raw, document.baseURI).protocol; } catch (e) { scheme = 'unparsable'; }
    if (scheme !== 'http:' && scheme !== 'https:') found.push(`link with ${scheme} ${raw.slice(0, 80)}`);
  }
  return found;
}"""


def mentions(published_at) -> list[dict]:
    """One mention per text payload, authors and URLs cycled through; all within an hour."""
    from datetime import timedelta

    return [{"external_id": f"xss{i}", "text": text, "author": AUTHORS[i % len(AUTHORS)],
             "url": URLS[i % len(URLS)], "published_at": (published_at + timedelta(minutes=i)).isoformat()}
            for i, text in enumerate(TEXTS)]


def assert_inert(page, where: str) -> None:
    found = page.evaluate(INERT_CHECK)
    assert not found, f"{where}: a payload became markup or ran: {found}"


def hover_points(page) -> list[str]:
    """Move the mouse over every point of every Plotly chart (hover labels are drawn from the
    figure's names and text); returns the hover labels' texts seen on the way."""
    positions = page.evaluate("""() => {
      const out = [];
      for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const layout = gd._fullLayout, rect = gd.getBoundingClientRect();
        for (const trace of gd.data || []) {
          const xa = layout.xaxis, ya = layout.yaxis;
          if (!xa || !ya || !trace.x) { out.push([rect.x + rect.width / 2, rect.y + rect.height / 2]); continue; }
          trace.x.forEach((x, i) => {
            const y = (trace.y || [])[i];
            if (y === null || y === undefined || y === 0) return;
            out.push([rect.x + xa._offset + xa.d2p(x), rect.y + ya._offset + ya.d2p(ya.type === 'log' ? y : y / 2)]);
          });
        }
      }
      return out.slice(0, 60);
    }""")
    seen = []
    for x, y in positions:
        page.mouse.move(x, y)
        seen.append(page.evaluate(
            "() => Array.from(document.querySelectorAll('.hoverlayer')).map(h => h.textContent).join(' ')"))
    assert positions, "no chart point to hover"
    return [text for text in seen if text.strip()]
