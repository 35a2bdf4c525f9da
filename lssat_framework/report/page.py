"""The page's building blocks: every text from a folder escaped (:func:`html.escape`), tables whose
columns sort on a click (a few lines of inline script; without scripts the table reads as it
is), collapsed sections as ``<details>``, pictures as ``data:`` URIs. No file or font is
fetched: the page is one file that any browser opens offline."""

from __future__ import annotations

import datetime
from html import escape
from typing import Any, Callable

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:0 20px 60px;color:#1f2328}
h1{font-size:24px;margin:24px 0 4px}h2{font-size:19px;margin:34px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}nav a{margin-right:14px}.muted{color:#59636e}.error{color:#cf222e}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px}th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}th.sortable{cursor:pointer}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fff1f0}.wide{overflow-x:auto;max-width:100%}img{max-width:100%;height:auto}
img.grid{image-rendering:pixelated;min-width:min(100%,640px)}details{margin:6px 0;border:1px solid #d0d7de;border-radius:6px;padding:4px 10px}
summary{cursor:pointer;font-weight:600}pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:12px}
figure{margin:10px 0}figcaption{font-size:12px;color:#59636e}.answers li{margin:4px 0}
"""

#: sorts a table by the clicked column: numbers by their data-value, text alphabetically
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.classList.add("sortable"); th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows), up = th.dataset.order !== "up";
      th.dataset.order = up ? "up" : "down";
      function key(row) { var cell = row.cells[column], v = cell.dataset.value; return v !== undefined && v !== "" && !isNaN(v) ? Number(v) : cell.textContent.trim().toLowerCase(); }
      rows.sort(function (a, b) { var x = key(a), y = key(b); if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; } return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def esc(value: Any) -> str:
    return escape("" if value is None else str(value))


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def details(summary: str, body: str, anchor: str = "") -> str:
    where = f' id="{esc(anchor)}"' if anchor else ""
    return f"<details{where}><summary>{summary}</summary>\n{body}\n</details>"


def image(uri: str, alt: str, caption: str = "", css: str = "") -> str:
    klass = f' class="{esc(css)}"' if css else ""
    note = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{esc(uri)}" alt="{esc(alt)}"{klass}>{note}</figure>'


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


def paragraph(text: str, css: str = "") -> str:
    return f'<p class="{esc(css)}">{esc(text)}</p>' if css else f"<p>{esc(text)}</p>"


Formatter = Callable[[str], str]


def table(columns: list[str], rows: list[dict[str, Any]], formats: dict[str, Formatter] | None = None, row_class: Callable[[dict], str] | None = None,
          anchor: str = "", sortable: bool = True) -> str:
    """A table of ``rows`` (column -> raw value). A column with a formatter shows the formatted
    value and keeps the raw one in ``data-value`` (what sorting and readers compare)."""
    formats = formats or {}
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    lines = []
    for row in rows:
        cells = []
        for column in columns:
            raw = row.get(column)
            if column in formats:
                cells.append(f'<td class="num" data-value="{esc(raw)}">{esc(formats[column](raw))}</td>')
            else:
                cells.append(f"<td>{esc(raw)}</td>")
        klass = f' class="{esc(row_class(row))}"' if row_class and row_class(row) else ""
        lines.append(f"<tr{klass}>{''.join(cells)}</tr>")
    where = f' id="{esc(anchor)}"' if anchor else ""
    klass = ' class="sortable"' if sortable else ""
    return f'<div class="wide"><table{where}{klass}><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(lines) + "\n</tbody></table></div>"


def document(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole page: a title, a navigation line, then each (anchor, title, body) section."""
    made = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    nav = " ".join(f'<a href="#{esc(anchor)}">{esc(name)}</a>' for anchor, name, _ in sections)
    body = "\n".join(section(anchor, name, content) for anchor, name, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n<h1>{esc(title)}</h1>"
            f'<p class="muted">{esc(subtitle)} · report written {esc(made)} by lssat report</p>\n<nav>{nav}</nav>\n{body}\n'
            f"<script>{SCRIPT}</script>\n</body></html>\n")
