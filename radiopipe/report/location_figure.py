"""The case page's location figure: the whole slice with the ROI outlined, and a zoomed view
with a scale bar, both with orientation labels on their edges.

Both panels are drawn in physical units (the slice's extent in mm from its top-left corner), so
non-square pixels keep their true aspect and the scale bar is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from radiopipe.explain.location import CaseLocation
from radiopipe.report.figures import to_data_uri

_NICE = (1.0, 2.0, 5.0)
ZOOM_MARGIN = 0.5  # the zoomed view shows the ROI's box widened by half its size on each side
ZOOM_MIN_PIXELS = 16  # and at least this many pixels across
SCALE_FRACTION = 0.25  # a scale bar spans at most this share of the view's width


def scale_bar(width: float, spacing: float) -> tuple[float, float]:
    """The length of a scale bar for a view ``width`` wide: the largest 1, 2 or 5 x 10^n that
    fits in a quarter of it.

    Parameters
    ----------
    width : float
        The view's width in physical units (mm).
    spacing : float
        The pixel size along the bar (mm per pixel).

    Returns
    -------
    (float, float)
        The bar's length in physical units and in pixels.

    Examples
    --------
    >>> scale_bar(40.0, 0.5)
    (10.0, 20.0)
    """
    target = width * SCALE_FRACTION
    exponent = np.floor(np.log10(target))
    length = max(n * 10.0**exponent for n in _NICE if n * 10.0**exponent <= target)
    return float(length), float(length / spacing)


def zoom_box(roi: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of the zoomed view: the ROI's box with a margin, within the slice."""
    points = np.argwhere(roi)
    if not len(points):
        return slice(0, roi.shape[0]), slice(0, roi.shape[1])
    low, high = points.min(axis=0), points.max(axis=0) + 1
    out = []
    for lo, hi, n in zip(low, high, roi.shape):
        half = max((hi - lo) * (1 + 2 * ZOOM_MARGIN), ZOOM_MIN_PIXELS) / 2
        centre = (lo + hi) / 2
        out.append(slice(int(max(np.floor(centre - half), 0)), int(min(np.ceil(centre + half), n))))
    return out[0], out[1]


def location_frame(case_id: str, item: CaseLocation) -> pd.DataFrame:
    """The table behind the figure: one row with the slice, the ROI centre, the zoomed box,
    the scale bar and the edge labels."""
    rows, columns = zoom_box(item.roi)
    length, pixels = scale_bar((columns.stop - columns.start) * item.spacing[1], item.spacing[1])
    centre = dict(zip(("centre_x", "centre_y", "centre_z"), item.centre))
    edges = dict(zip(("edge_top", "edge_bottom", "edge_left", "edge_right"), item.edges))
    return pd.DataFrame([{
        "case_id": case_id, "slice_index": item.slice_index, "n_slices": item.n_slices,
        **centre, "length_unit": item.length_unit, "spacing_row": item.spacing[0],
        "spacing_column": item.spacing[1], "zoom_rows": f"{rows.start}:{rows.stop}",
        "zoom_columns": f"{columns.start}:{columns.stop}", "scale_bar": length,
        "scale_bar_pixels": pixels, **edges, "modality": item.modality,
        "intensity_unit": item.intensity_unit, "roi_pixels_on_slice": int(item.roi.sum()),
    }])


def location_figure(item: CaseLocation) -> str:
    """The two panels as a PNG data URI (see the module docstring)."""
    dy, dx = item.spacing
    unit = item.length_unit
    rows, columns = zoom_box(item.roi)
    low, high = np.nanpercentile(item.image, [1, 99]) if item.image.size else (0.0, 1.0)
    fig = Figure(figsize=(8.4, 4.2))
    whole, zoom = fig.subplots(1, 2)
    panels = ((whole, slice(0, item.image.shape[0]), slice(0, item.image.shape[1])),
              (zoom, rows, columns))
    for ax, r, c in panels:
        extent = (c.start * dx, c.stop * dx, r.stop * dy, r.start * dy)
        ax.imshow(item.image[r, c], cmap="gray", vmin=low, vmax=high, extent=extent,
                  interpolation="nearest")
        y = (np.arange(r.start, r.stop) + 0.5) * dy
        x = (np.arange(c.start, c.stop) + 0.5) * dx
        if item.roi[r, c].any():
            ax.contour(x, y, item.roi[r, c].astype(float), levels=[0.5], colors="yellow",
                       linewidths=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        _edge_labels(ax, item.edges)
    whole.add_patch(Rectangle((columns.start * dx, rows.start * dy),
                              (columns.stop - columns.start) * dx, (rows.stop - rows.start) * dy,
                              fill=False, edgecolor="#00c8ff", linestyle="--", linewidth=1.0))
    where = (f"slice index {item.slice_index} of {item.n_slices}" if item.n_slices > 1
             else "the image")
    whole.set_title(f"{where}: ROI outlined, zoom boxed", fontsize=9)
    zoom.set_title("zoomed view", fontsize=9)
    width = (columns.stop - columns.start) * dx
    length, _ = scale_bar(width, dx)
    x0 = columns.start * dx + 0.06 * width
    y0 = rows.stop * dy - 0.07 * (rows.stop - rows.start) * dy
    zoom.plot([x0, x0 + length], [y0, y0], color="white", linewidth=3, solid_capstyle="butt")
    zoom.text(x0 + length / 2, y0, f"{length:g} {unit}", color="white", fontsize=8,
              ha="center", va="bottom")
    return to_data_uri(fig)


def _edge_labels(ax, edges: tuple[str, str, str, str]) -> None:
    """Write the (top, bottom, left, right) orientation letters at the middle of each edge."""
    places = ((0.5, 0.98, "center", "top"), (0.5, 0.02, "center", "bottom"),
              (0.02, 0.5, "left", "center"), (0.98, 0.5, "right", "center"))
    for text, (x, y, ha, va) in zip(edges, places):
        if text:
            ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, color="#ffd400",
                    fontsize=10, fontweight="bold")
