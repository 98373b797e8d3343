"""How numbers are written on the pages: one place, so every page agrees."""

from __future__ import annotations

from pipeline.core import catalogue
from pipeline.core.ecosystem import FIGURES
from pipeline.core.metrics import missing
from pipeline.publish.scale_out import MEASURES as SCALE_OUT


def fmt(value, digits: int = 0) -> str:
    if missing(value):
        return "–"
    return f"{value:,.{digits}f}"


def fmt_pct(value, digits: int = 1) -> str:
    """A fraction as a percentage: 0.123 -> "12.3%"."""
    if missing(value):
        return "–"
    return f"{100 * value:.{digits}f}%"


def fmt_signed(value, digits: int = 2) -> str:
    """A number that may be negative, with a true minus sign: -0.13 -> "−0.13"."""
    if missing(value):
        return "–"
    return f"{value:.{digits}f}".replace("-", "\u2212")


def fmt_bytes(value) -> str:
    if missing(value):
        return "–"
    if value < 2**20:  # checkpoints and exports of small models
        return f"{value / 2**10:,.1f} KiB"
    return f"{value / 2**20:,.0f} MiB"


def fmt_si(value) -> str:
    """1.23 G, 456 M: throughputs span nine orders of magnitude across cases."""
    if missing(value):
        return "–"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:,.3g} {prefix}"
    return f"{value:,.3g}"


def fmt_span(low, high, style: int | str = 0) -> str:
    """An interval as "low–high", each end as ``fmt`` (``style`` digits) or ``fmt_si``
    (``style`` "si"); "–" when either end is missing."""
    ends = [fmt_si(v) if style == "si" else fmt(v, style) for v in (low, high)]
    return "–" if "–" in ends else f"{ends[0]}–{ends[1]}"


def fmt_duration(seconds, unit: str = "s") -> str:
    """A duration in one fixed unit, the one its metric is shown in everywhere
    (``Metric.shown_in``): "0.324 ms", "1,540 ms", "18.9 s"; three significant digits."""
    if missing(seconds):
        return "–"
    value = seconds * {"s": 1.0, "ms": 1e3}[unit]
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:.3g} {unit}"


def fmt_value(name: str, value, unit: str = "") -> str:
    """A metric or ecosystem figure in the unit a reader expects, by the unit its
    catalogue gives it: durations in their metric's fixed unit (ms or s), bytes in KiB/MiB, fractions in %,
    rates with SI prefixes (``unit``: what they count per second), counts as
    integers."""
    if missing(value):
        return "unknown"
    if isinstance(value, str):
        return value
    metric, figure = catalogue.find(name), FIGURES.get(name)
    kind = metric.unit if metric else figure.unit if figure else "fraction" if name in SCALE_OUT else None
    if kind == "fraction":
        return f"{100 * value:.1f}%"
    if kind == "MiB":
        return f"{value:,.0f} MiB"
    if kind == "bytes":
        return fmt_bytes(value)
    if kind == "s":
        return fmt_duration(value, metric.shown_in if metric else "s")
    if kind == "FLOP/s":
        return f"{fmt_si(value)}FLOP/s"
    if kind == "rate":
        return f"{fmt_si(value)} {unit}" if unit else f"{fmt_si(value)}/s"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}"
