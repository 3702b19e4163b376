"""Rent index charts drawn on the server as SVG (pygal), so they read without JavaScript.

Pages embed them with <img> beside a table of the same numbers for screen readers. pygal's
own interactivity script is removed: Krov pages load no third-party code."""

from __future__ import annotations

import re
import sys

import pygal
from django.utils.html import escape
from django.utils.translation import gettext as _
from pygal.style import Style

from krov.housing import months
from krov.housing.models import RentIndexCell

# pygal appends a legacy sys.meta_path hook (for its map plugins, unused here) that makes
# every later import emit an ImportWarning on Python 3.11+; take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="system-ui, sans-serif",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#8795a1",
    colors=("#2457a6", "#c2410c", "#15803d"),
    opacity=".35",
    opacity_hover=".5",
)


def describe(name: str, cells: list[RentIndexCell]) -> str:
    """One sentence with what the chart shows, for its <desc> and the <img> alt text; its
    months take the forms "from …"/"to …" need in the page's language (krov.housing.months)."""
    shown = [c for c in cells if c.median_rent is not None]
    if not shown:
        return _("No month in %(area)s has enough rents to show.") % {"area": name}
    first, last = shown[0], shown[-1]
    return _(
        "Median monthly rent in %(area)s from %(first_month)s (%(first)s EUR) to "
        "%(last_month)s (%(last)s EUR); months with too few data are left blank."
    ) % {
        "area": name,
        "first_month": months.month_since(first.month),
        "first": first.median_rent,
        "last_month": months.month_until(last.month),
        "last": last.median_rent,
    }


def rent_chart(name: str, cells: list[RentIndexCell], *, small: bool = False) -> str:
    """A line of the median rent with its interquartile band; gaps where a month has too
    few data."""
    title = _("Median rent in %(area)s, EUR per month") % {"area": name}
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=360 if small else 760,
        height=200 if small else 340,
        title=None if small else title,
        show_dots=False,
        show_legend=not small,
        legend_at_bottom=True,
        show_minor_x_labels=False,
        x_labels_major_every=12,
        truncate_label=-1,
        allow_interruptions=True,
        include_x_axis=True,
        style=_STYLE,
        margin=8,
    )
    chart.x_labels = [c.month.strftime("%Y-%m") for c in cells]
    chart.add(_("Median"), [float(c.median_rent) if c.median_rent else None for c in cells])
    if not small:
        chart.add(_("Lower quartile"), [float(c.q1_rent) if c.q1_rent else None for c in cells])
        chart.add(_("Upper quartile"), [float(c.q3_rent) if c.q3_rent else None for c in cells])
    svg = chart.render(is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    label = (
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(describe(name, cells))}</desc>'
    )
    return re.sub(
        r"<svg\b([^>]*)>",
        lambda m: f'<svg{m.group(1)} role="img" aria-labelledby="t d">{label}',
        svg,
        count=1,
    )
