"""Rendering shared by the lecture widgets: matplotlib figures as PNG bytes, HTML tables and grids.

Figures are drawn on matplotlib's Agg canvas (never with pyplot), so nothing is displayed twice in a
notebook; the widget helpers build the sliders, wrapping rows and image boxes every widget uses.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np


def table_html(rows: list[dict], columns: list[str] | None = None) -> str:
    """A small HTML table of a list of dicts (numbers with thousands separators)."""
    if not rows:
        return "<table></table>"
    columns = columns or list(rows[0])

    def fmt(v):
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        if isinstance(v, float):
            return f"{v:,.1f}"
        return html.escape(str(v))

    head = "".join(f"<th style='padding:2px 10px'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 10px;text-align:right'>{fmt(r[c])}</td>"
                         for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"






def new_figure(width: float, height: float, dpi: int = 90):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot: nothing shows up by itself)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.05)
    return buf.getvalue()


def show_as_jpeg(fig=None, quality: int = 85) -> bytes:
    """Show a matplotlib figure in the notebook as a JPEG image, close it, and return the JPEG bytes.

    fig: a Figure (default: pyplot's current one); quality: JPEG quality, 1..95. Meant for figures
    of noisy photos and scenes, whose PNG is several times larger (MB each): a notebook saved with
    them stays small. Use it where ``plt.show()`` would be called.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    if not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 95:
        raise ValueError(f"show_as_jpeg: quality must be an integer from 1 to 95, got {quality!r}")
    fig = plt.gcf() if fig is None else fig
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", pil_kwargs={"quality": int(quality)})
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="jpeg"))
    return buf.getvalue()


def signed_limit(a: np.ndarray, percentile: float = 100.0) -> float:
    """Colour-scale limit for signed maps: the given percentile of |a| (1.0 if all zero)."""
    lim = float(np.percentile(np.abs(a), percentile))
    if lim <= 0:
        lim = float(np.max(np.abs(a)))
    return lim if lim > 0 else 1.0


def _grid_cell(value, style: str) -> str:
    text = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
    return (f"<td style='width:28px;height:24px;text-align:center;border:1px solid #bbb;"
            f"font-family:monospace;{style}'>{text}</td>")


def grid_html(values, highlight: tuple | None = None, pad: int = 0, filled: int | None = None,
              caption: str = "", color: str = "#ffd54f") -> str:
    """An HTML table of a small 2-D integer/float array.

    highlight: (row, col, h, w) block drawn in ``color``; pad: width of the border drawn grey
    (padding zeros); filled: show only the first ``filled`` cells in reading order (others blank).
    """
    v = np.asarray(values)
    rows = []
    for i in range(v.shape[0]):
        cells = []
        for j in range(v.shape[1]):
            k = i * v.shape[1] + j
            style = ""
            if pad and (i < pad or j < pad or i >= v.shape[0] - pad or j >= v.shape[1] - pad):
                style += "color:#999;background:#eee;"
            if highlight is not None:
                r, c, h, w = highlight
                if r <= i < r + h and c <= j < c + w:
                    style += f"background:{color};font-weight:bold;color:#000;"
            val = v[i, j] if (filled is None or k < filled) else ""
            cells.append(_grid_cell(val, style))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='caption-side:top;font-weight:bold'>{html.escape(caption)}</caption>"
    return f"<table style='border-collapse:collapse;margin:4px'>{cap}{''.join(rows)}</table>"




def slider(label, value, lo, hi, step=1, continuous=True):
    return widgets.IntSlider(value=value, min=lo, max=hi, step=step, description=label,
                       continuous_update=continuous, style={"description_width": "100px"})


def row(children):
    """Widgets side by side that wrap onto the next line when the notebook is too narrow for them
    (a plain HBox would push the last ones past the output area's edge, where they are cut off)."""
    return widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))


def figure_image():
    # Shown at its natural size (flex containers would otherwise stretch it and blur the text).
    return widgets.Image(format="png", layout=widgets.Layout(
        max_width="100%", height="auto", align_self="flex-start", object_fit="contain"))


