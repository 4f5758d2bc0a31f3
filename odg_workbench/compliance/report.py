"""A compliance report: the findings of one or more frameworks for one target, as JSON or HTML.

The score is ``passed / (passed + failed)``: requirements that do not apply count neither
way; with nothing applicable the score is ``None``. The HTML page is self-contained (inline
style, no script, no external resource) so it can be mailed or archived as it is; every
value in it is escaped.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from odg_workbench.compliance.base import Finding, Status

__all__ = ["ComplianceReport"]


def _score(findings: list[Finding]) -> float | None:
    passed = sum(f.status is Status.PASS for f in findings)
    failed = sum(f.status is Status.FAIL for f in findings)
    return round(passed / (passed + failed), 4) if passed + failed else None


def _summary(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.status.value for f in findings)
    return {
        "pass": counts["pass"],
        "fail": counts["fail"],
        "not_applicable": counts["not_applicable"],
        "total": len(findings),
    }


@dataclass
class ComplianceReport:
    """Findings for ``target`` under ``frameworks``; ``skipped`` says why other frameworks did not apply."""

    target: str
    frameworks: list[str]
    findings: list[Finding]
    generated_at: datetime
    workspace: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    jurisdictions: list[str] | None = None
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        """Counts: ``{"pass", "fail", "not_applicable", "total"}``."""
        return _summary(self.findings)

    @property
    def score(self) -> float | None:
        """``passed / (passed + failed)``, ``None`` when no requirement applies."""
        return _score(self.findings)

    @property
    def passed(self) -> bool:
        """True when no requirement fails."""
        return not any(f.status is Status.FAIL for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    def findings_of(self, framework: str) -> list[Finding]:
        return [f for f in self.findings if f.framework == framework]

    def finding(self, requirement_id: str, framework: str | None = None) -> Finding:
        """The finding of one requirement (``KeyError`` naming the ids present when absent)."""
        for f in self.findings:
            if f.requirement_id == requirement_id and (framework is None or f.framework == framework):
                return f
        raise KeyError(f"no finding {requirement_id!r}; present: {', '.join(f.requirement_id for f in self.findings)}")

    def by_framework(self) -> dict[str, dict[str, Any]]:
        """Per framework: title, summary counts and score."""
        out = {}
        for name in self.frameworks:
            mine = self.findings_of(name)
            out[name] = {"title": self.titles.get(name, name), "summary": _summary(mine), "score": _score(mine)}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``odg compliance check --json``."""
        return {
            "target": self.target,
            "workspace": self.workspace,
            "frameworks": list(self.frameworks),
            "jurisdictions": self.jurisdictions,
            "generated_at": self.generated_at.isoformat(),
            "summary": self.summary,
            "score": self.score,
            "passed": self.passed,
            "by_framework": self.by_framework(),
            "skipped": dict(self.skipped),
            "unknown": dict(self.unknown),
            "findings": [f.to_dict() for f in self.findings],
        }

    # -- HTML ----------------------------------------------------------------------------------------

    def to_html(self) -> str:
        """A self-contained HTML page: summary, then per framework a table of findings."""
        e = _esc
        score = "n/a" if self.score is None else f"{self.score:.0%}"
        s = self.summary
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Compliance report: {e(self.target)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>Compliance report: <code>{e(self.target)}</code></h1>",
            '<p class="meta">',
            f"Workspace <code>{e(self.workspace)}</code> &middot; generated {e(self.generated_at.isoformat(timespec='seconds'))}",
            f" &middot; jurisdictions: {e(', '.join(self.jurisdictions)) if self.jurisdictions else 'not classified (every framework applies)'}",
            "</p>",
            '<div class="cards">',
            f'<div class="card"><span class="big">{e(score)}</span>score (passed / applicable)</div>',
            f'<div class="card"><span class="big pass-t">{s["pass"]}</span>passed</div>',
            f'<div class="card"><span class="big fail-t">{s["fail"]}</span>failed</div>',
            f'<div class="card"><span class="big na-t">{s["not_applicable"]}</span>not applicable</div>',
            "</div>",
            "<h2>Frameworks</h2>",
            "<table><thead><tr><th>framework</th><th>score</th><th>passed</th><th>failed</th><th>not applicable</th></tr></thead><tbody>",
        ]
        for name, info in self.by_framework().items():
            sc = "n/a" if info["score"] is None else f"{info['score']:.0%}"
            fs = info["summary"]
            parts.append(
                f'<tr><td><a href="#fw-{e(name)}">{e(info["title"])}</a></td><td>{e(sc)}</td>'
                f"<td>{fs['pass']}</td><td>{fs['fail']}</td><td>{fs['not_applicable']}</td></tr>"
            )
        parts.append("</tbody></table>")
        if self.skipped:
            parts.append('<p class="meta">Not applicable to this target\'s jurisdictions: ')
            parts.append("; ".join(f"{e(n)} ({e(why)})" for n, why in sorted(self.skipped.items())))
            parts.append("</p>")
        if self.unknown:
            parts.append('<h2>Facts that could not be established</h2><ul class="unknown">')
            parts.extend(f"<li><code>{e(k)}</code>: {e(v)}</li>" for k, v in sorted(self.unknown.items()))
            parts.append("</ul>")
        for name in self.frameworks:
            parts.append(f'<h2 id="fw-{e(name)}">{e(self.titles.get(name, name))}</h2>')
            parts.append(
                '<table class="findings"><thead><tr><th>requirement</th><th>status</th>'
                "<th>evidence</th><th>remediation</th></tr></thead><tbody>"
            )
            for f in self.findings_of(name):
                parts.append(
                    f'<tr class="{e(f.status.value)}"><td><b>{e(f.requirement_id)}</b><br>{e(f.name)}</td>'
                    f'<td><span class="badge {e(f.status.value)}">{e(_LABEL[f.status])}</span></td>'
                    f"<td>{e(f.evidence)}</td><td>{e(f.remediation or '')}</td></tr>"
                )
            parts.append("</tbody></table>")
        parts.append(
            '<p class="meta">Generated by OpenDataGov Workbench. Findings are evidence gathered from the '
            "workspace, not legal advice.</p></body></html>"
        )
        return "\n".join(parts) + "\n"

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path`` atomically (a temporary file renamed over it)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_html())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"ComplianceReport({self.target!r}, {', '.join(self.frameworks)}: "
            f"{s['pass']} pass, {s['fail']} fail, {s['not_applicable']} n/a, score {self.score})"
        )


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


_LABEL = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.NOT_APPLICABLE: "N/A"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:75rem;
padding:0 1rem;color:#1f2933;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.3rem}
code{background:#f0f4f8;padding:0 .25rem;border-radius:3px}
.meta{color:#52606d;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:.6rem 1rem;min-width:8rem;color:#52606d;font-size:.85rem}
.big{display:block;font-size:1.8rem;font-weight:600;color:#1f2933}
.pass-t{color:#1e7a34}.fail-t{color:#b42318}.na-t{color:#7b8794}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f7fa}
tr.fail td{background:#fff5f4}
.badge{display:inline-block;padding:.1rem .45rem;border-radius:4px;font-weight:600;font-size:.75rem;color:#fff}
.badge.pass{background:#1e7a34}.badge.fail{background:#b42318}.badge.not_applicable{background:#7b8794}
.findings td:nth-child(3),.findings td:nth-child(4){word-break:break-word}
"""
