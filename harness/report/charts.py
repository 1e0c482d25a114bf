"""Inline SVG pictures for the report, drawn from a check's evidence alone.

- a latency budget item: source and target p50/p95/p99 as paired bars on a log axis, with
  the budget as a dashed line across them (the target's bars turn red when its p95 is over);
- the health checks: one cell per probe (the database's ``SELECT 1``, the application's
  health URL), a strip of successes and failures.

Pure functions of plain data, no external assets, no scripts: the report stays one
self-contained file. Every text that reaches the SVG goes through :func:`xml_escape`; numbers
are formatted here, never taken as text from the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from harness.capabilities import APP_HEALTH, LATENCY

_STATS = ("p50", "p95", "p99")
_WIDTH, _HEIGHT = 420, 180
_LEFT, _BOTTOM, _TOP = 62, 22, 26
_SOURCE, _TARGET, _OVER, _BUDGET = "#7a8ca3", "#2f6fb3", "#c0392b", "#b35c00"


def chart_for(area: str | None, check: Mapping[str, Any]) -> str:
    """The SVG picture of a check, or ``""`` when its area or evidence has none."""
    evidence = check.get("evidence")
    if area not in (LATENCY.area, APP_HEALTH.area) or not isinstance(evidence, Mapping):
        return ""
    if "strip" in evidence:  # the database's SELECT 1 probes, or the application's health URL
        return health_strip(str(evidence.get("strip") or ""), label=str(check.get("id") or ""))
    source, target = evidence.get("source_ms"), evidence.get("target_ms")
    if isinstance(source, Mapping) and isinstance(target, Mapping):
        return latency_bars(
            source, target, _number(evidence.get("p95_ms_budget")), label=str(check.get("id") or "")
        )
    return ""


def latency_bars(
    source: Mapping[str, Any],
    target: Mapping[str, Any],
    budget_ms: float | None,
    *,
    label: str = "",
) -> str:
    """Paired bars of p50/p95/p99 per side, with the budget as a dashed horizontal line.

    The axis is logarithmic: a 0.3 ms query next to an 800 ms one and a 250 ms budget must
    all be readable, and a regression is a ratio, which a log axis shows as a distance.
    """
    values = {
        side: [_number(stats.get(s)) for s in _STATS]
        for side, stats in (("source", source), ("target", target))
    }
    known = [v for vs in values.values() for v in vs if v is not None and v > 0]
    if budget_ms is not None and budget_ms > 0:
        known.append(budget_ms)
    low = 10 ** math.floor(math.log10(min(known))) if known else 0.1
    high = 10 ** math.ceil(math.log10(max(known) * 1.05)) if known else 1.0
    high = max(high, low * 10)
    plot_h = _HEIGHT - _BOTTOM - _TOP
    plot_w = _WIDTH - _LEFT - 10
    span = math.log10(high) - math.log10(low)

    def y(ms: float) -> float:
        ms = min(max(ms, low), high)
        return _TOP + plot_h - (math.log10(ms) - math.log10(low)) / span * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart latency-chart" '
        f'width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{xml_escape(_aria(label, values, budget_ms), {chr(34): "&quot;"})}">',
        f"<title>{xml_escape(label)} latency (ms, log scale)</title>",
    ]
    tick = low
    while tick <= high * 1.0001:
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{_ms(tick)} ms</text>"
        )
        tick *= 10
    group_w = plot_w / len(_STATS)
    bar_w = group_w * 0.3
    over = budget_ms is not None and (values["target"][1] or 0.0) > budget_ms
    for i, stat in enumerate(_STATS):
        x0 = _LEFT + i * group_w + group_w * 0.15
        for j, side in enumerate(("source", "target")):
            value = values[side][i]
            if value is None:
                continue
            colour = _SOURCE if side == "source" else (_OVER if over else _TARGET)
            x = x0 + j * (bar_w + 4)
            top = y(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(y(low) - top, 0.5):.1f}" fill="{colour}">'
                f"<title>{side} {stat}: {_ms(value)} ms</title></rect>"
            )
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top - 2:.1f}" text-anchor="middle" '
                f'font-size="9">{_ms(value)}</text>'
            )
        parts.append(
            f'<text x="{x0 + bar_w + 2:.1f}" y="{_HEIGHT - 6}" text-anchor="middle" '
            f'font-size="11">{stat}</text>'
        )
    if budget_ms is not None:
        parts.append(
            f'<line class="budget" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(budget_ms):.1f}" '
            f'y2="{y(budget_ms):.1f}" stroke="{_BUDGET}" stroke-width="2" stroke-dasharray="6 4">'
            f"<title>budget {_ms(budget_ms)} ms</title></line>"
        )
        parts.append(
            f'<text x="{_LEFT + 4}" y="{y(budget_ms) - 3:.1f}" font-size="10" '
            f'fill="{_BUDGET}" stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"budget {_ms(budget_ms)} ms</text>"
        )
    parts.append(_legend())
    parts.append("</svg>")
    return "".join(parts)


def health_strip(strip: str, *, label: str = "") -> str:
    """One cell per probe, in order: green answered in time, red failed or late."""
    cells = [c == "1" for c in strip]
    per_row = 50
    size, gap = 6, 1
    rows = max(math.ceil(len(cells) / per_row), 1)
    width = per_row * (size + gap) + 2
    height = rows * (size + gap) + 2
    ok = sum(cells)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart health-strip" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{ok} of {len(cells)} probes succeeded">',
        f"<title>{xml_escape(label)}: {ok} of {len(cells)} probes succeeded</title>",
    ]
    for i, good in enumerate(cells):
        x = 1 + (i % per_row) * (size + gap)
        y = 1 + (i // per_row) * (size + gap)
        colour = "#2e8540" if good else _OVER
        parts.append(
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{colour}" '
            f'class="{"ok" if good else "failed"}"><title>probe {i + 1}: '
            f"{'ok' if good else 'failed'}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    return (
        f'<rect x="{_WIDTH - 120}" y="2" width="8" height="8" fill="{_SOURCE}"/>'
        f'<text x="{_WIDTH - 108}" y="10" font-size="10">source</text>'
        f'<rect x="{_WIDTH - 66}" y="2" width="8" height="8" fill="{_TARGET}"/>'
        f'<text x="{_WIDTH - 54}" y="10" font-size="10">target</text>'
    )


def _aria(label: str, values: dict[str, list[float | None]], budget: float | None) -> str:
    text = "; ".join(
        f"{side} "
        + ", ".join(f"{s} {_ms(v)} ms" for s, v in zip(_STATS, vs, strict=True) if v is not None)
        for side, vs in values.items()
    )
    return f"{label}: {text}" + (f"; budget {_ms(budget)} ms" if budget is not None else "")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _ms(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"
