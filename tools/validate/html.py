"""The Report as one self-contained HTML page: the verdict and counts, then every check by workflow, with the
clause it tests and, for each one that did not pass, the message and the request/response that show why."""

from __future__ import annotations

from html import escape
from itertools import groupby
from pathlib import Path

from registry_toolkit.validate.exchange import Exchange
from registry_toolkit.validate.outcome import Result, Status
from registry_toolkit.validate.report import Report

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1d1d1f}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.verdict{padding:.6em 1em;border-radius:6px;font-weight:600}.ok{background:#e6f4ea}.bad{background:#fce8e6}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em .5em;vertical-align:top}
tr+tr td{border-top:1px solid #eee}.badge{display:inline-block;min-width:6.5em;text-align:center;
border-radius:4px;font-size:.8em;font-weight:600;padding:.1em .4em}.pass{background:#e6f4ea;color:#137333}
.fail{background:#fce8e6;color:#a50e0e}.unsupported-optional{background:#fef7e0;color:#8a5300}
.skip{background:#eee;color:#555}code{font-size:.9em}pre{background:#f6f8fa;padding:.6em;overflow:auto;
white-space:pre-wrap;word-break:break-all;font-size:12px}details{margin:.3em 0}.msg{margin:.3em 0}
.counts span{margin-right:1.2em}.clause{color:#555;font-size:.85em}
"""


def render(report: Report) -> str:
    counts = report.counts
    verdict = "ok" if report.ok else "bad"
    text = (
        "Conformant: no check failed"
        if report.ok
        else f"Not conformant: {len(report.failed)} check(s) failed"
    )
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>registry-validate: {escape(report.target)}</title><style>{STYLE}</style></head><body>",
        f"<h1>registry-validate: <code>{escape(report.target)}</code></h1>",
        f'<p class="verdict {verdict}">{escape(text)}</p>',
        '<p class="counts">'
        + "".join(f"<span>{counts[s]} {s.value}</span>" for s in Status)
        + f"<span>{report.seconds:.1f} s</span></p>",
        f"<p>Repository <code>{escape(report.namespace)}</code>, cross-mount repository "
        f"<code>{escape(report.crossmount)}</code>.</p>",
    ]
    if report.failed:
        parts.append("<h2>Failures</h2><ul>")
        parts += [
            f'<li><a href="#{escape(r.check_id)}">{escape(r.check_id)}</a>: {escape(r.title)}</li>'
            for r in report.failed
        ]
        parts.append("</ul>")
    for workflow, results in groupby(report.results, key=lambda r: r.workflow):
        parts.append(f"<h2>{escape(workflow)}</h2><table>")
        parts += [_row(result) for result in results]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _row(result: Result) -> str:
    cells = [
        f'<td><span class="badge {result.status.value}">{result.status.value}</span></td>',
        f'<td id="{escape(result.check_id)}"><code>{escape(result.check_id)}</code><br>{escape(result.title)}'
        f'<div class="clause">{escape(result.clause_text)}</div>{_detail(result)}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _detail(result: Result) -> str:
    if result.status is Status.PASS:
        return ""
    out = [f'<div class="msg">{escape(result.message)}</div>'] if result.message else []
    if result.reproduce:
        out.append(f"<p>Reproduce:</p><pre>{escape(result.reproduce)}</pre>")
    if result.failing is not None:
        out.append(_exchange(result.failing, open_=result.status is Status.FAIL, label="The exchange"))
    others = [e for e in result.exchanges if e is not result.failing]
    if others and result.status is Status.FAIL:
        inner = "".join(_exchange(e, open_=False, label=f"{e.method} {e.url} → {e.status}") for e in others)
        out.append(
            f"<details><summary>Every other exchange of this check ({len(others)})</summary>{inner}</details>"
        )
    return "".join(out)


def _exchange(exchange: Exchange, *, open_: bool, label: str) -> str:
    return (
        f"<details{' open' if open_ else ''}><summary>{escape(label)}</summary>"
        f"<pre>{escape(exchange.request_text())}</pre><pre>{escape(exchange.response_text())}</pre>"
        f"<p>As curl:</p><pre>{escape(exchange.curl())}</pre></details>"
    )


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
