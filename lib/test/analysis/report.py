"""Comparison tables, per-attribute scores and success / precision plots for several trackers.

Input is a mapping ``name -> result`` as returned by :func:`lib.test.analysis.compare_trackers`.
Plots are drawn with matplotlib's object API on an Agg canvas (no pyplot, no display needed) and
follow the toolkits' figures: one curve per tracker, sorted by score, the score in the legend as
``[0.362] Tracker`` - success-curve mean (AUC) for success plots, the value at 20 px / 0.2 for
precision plots, the maximum F for the DepthTrack precision-recall plot.
"""
from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lib.test.analysis.protocol import TrackerResult, get_protocol
from lib.utils.files import atomic_write, atomic_write_text

logger = logging.getLogger(__name__)

# curve name -> (title, x label, y label, legend location)
_PLOT_LABELS = {
    "success": ("Success plots of OPE", "Overlap threshold", "Success rate", "lower left"),
    "precision": ("Precision plots of OPE", "Location error threshold (px)", "Precision", "lower right"),
    "norm_precision": ("Normalized precision plots of OPE", "Normalized location error threshold",
                       "Normalized precision", "lower right"),
    "precision_recall": ("Tracking precision-recall", "Recall", "Precision", "lower left"),
}


def dataset_of(results: Mapping[str, TrackerResult]) -> str:
    """The one benchmark all results belong to."""
    datasets = {r.dataset for r in results.values()}
    if len(datasets) != 1:
        raise ValueError(f"results from several benchmarks: {sorted(datasets)}")
    return datasets.pop()


def format_score(value: float, percent: bool = False) -> str:
    """A score as ``0.5001`` or, with ``percent``, ``50.0``; NaN as ``-``."""
    if np.isnan(value):
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.4f}"


def format_fps(value: float) -> str:
    """Frames per second with one decimal; ``-`` when unknown (no time files)."""
    return "-" if np.isnan(value) else f"{value:.1f}"


def has_times(results: Mapping[str, TrackerResult]) -> bool:
    """True when at least one tracker's folder has the runner's time files (the FPS column is shown)."""
    return any(r.times for r in results.values())


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    """A text table with aligned columns, or a Markdown pipe table."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def score_rows(results: Mapping[str, TrackerResult], percent: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison table: scores, FPS (when time files exist), sequences scored."""
    keys = get_protocol(dataset_of(results)).score_keys
    with_fps = has_times(results)
    header = ["Tracker", *keys, *(["FPS"] if with_fps else []), "Sequences"]
    rows = []
    for name, result in results.items():
        scores = result.scores()
        n = f"{len(result.sequences)}" + (f" ({len(result.skipped)} skipped)" if result.skipped else "")
        fps = [format_fps(result.fps())] if with_fps else []
        rows.append([name, *(format_score(scores[k], percent) for k in keys), *fps, n])
    return header, rows


def format_table(results: Mapping[str, TrackerResult], markdown: bool = False, percent: bool = False) -> str:
    """One row per tracker with the benchmark's scores, FPS and the number of sequences scored.

    FPS is shown when a results folder holds the runner's ``<seq>_time.txt`` files: frames after the
    first divided by their summed tracker time (``TrackerResult.fps``).
    """
    header, rows = score_rows(results, percent)
    return f"{dataset_of(results)}\n\n" + render_table(header, rows, markdown)


def attribute_scores(result: TrackerResult, attributes: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Scores of one tracker on the sequences of every attribute (``attribute -> {metric: value}``).

    Sequences the tracker was not scored on (``allow_missing``) are left out; an attribute without
    any scored sequence gets NaN values.
    """
    scored = set(result.sequences)
    out = {}
    for attr, seqs in attributes.items():
        subset = [s for s in seqs if s in scored]
        out[attr] = (result.scores(subset) if subset
                     else {k: float("nan") for k in get_protocol(result.dataset).score_keys})
    return out


def format_attribute_table(results: Mapping[str, TrackerResult], attributes: Mapping[str, Sequence[str]],
                           metric: str, markdown: bool = False, percent: bool = False) -> str:
    """Rows = attributes (with their sequence count), columns = trackers, values = ``metric``."""
    dataset = dataset_of(results)
    keys = get_protocol(dataset).score_keys
    if metric not in keys:
        raise KeyError(f"{dataset} has no metric '{metric}'; known: {', '.join(keys)}")
    per_tracker = {name: attribute_scores(r, attributes) for name, r in results.items()}
    header = ["Attribute", "Sequences", *results]
    rows = [[attr, str(len(seqs)), *(format_score(per_tracker[name][attr][metric], percent) for name in results)]
            for attr, seqs in attributes.items()]
    return f"{dataset} per attribute: {metric}\n\n" + render_table(header, rows, markdown)


def write_sequence_scores(results: Mapping[str, TrackerResult], path: str | Path) -> Path:
    """Per-sequence scores of every tracker as CSV (``tracker, sequence, <metrics>``)."""
    keys = get_protocol(dataset_of(results)).score_keys
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["tracker", "sequence", *keys])
    for name, result in results.items():
        for seq, scores in result.sequence_scores().items():
            writer.writerow([name, seq, *(f"{scores[k]:.6f}" for k in keys)])
    return atomic_write_text(path, text.getvalue())


def curve_figure(results: Mapping[str, TrackerResult], curve_name: str, sequences: Sequence[str] | None = None,
                 subset: str = "", colors: Mapping[str, str] | None = None, size: tuple[float, float] = (7.5, 5.5)):
    """One plot (a matplotlib Figure) of curve ``curve_name`` for every tracker, legend sorted by score.

    ``sequences`` restricts the curves to a subset (named ``subset`` in the title, e.g. an attribute);
    ``colors`` fixes a colour per tracker (default: matplotlib's cycle in score order).
    """
    from matplotlib.figure import Figure  # noqa: PLC0415  (matplotlib only when plotting)

    dataset = dataset_of(results)
    title, xlabel, ylabel, legend_loc = _PLOT_LABELS[curve_name]
    entries = []
    for name, result in results.items():
        scored = set(result.sequences)
        seqs = None if sequences is None else [s for s in sequences if s in scored]
        entries.append((name, result.plot_curve(curve_name, seqs)))
    fig = Figure(figsize=size, dpi=100)
    ax = fig.add_subplot()
    ax.grid(True, linestyle=":", linewidth=0.8)
    for name, curve in sorted(entries, key=lambda e: -np.nan_to_num(e[1].score, nan=-1)):
        color = colors.get(name) if colors else None
        line, = ax.plot(curve.x, curve.y, linewidth=2, color=color, label=f"[{curve.score:.3f}] {name}")
        if curve.point is not None:
            ax.plot([curve.point[0]], [curve.point[1]], "o", color=line.get_color())
    note = f" ({subset}, {len(sequences)} sequences)" if sequences is not None and subset else ""
    xlim = (0, 1) if curve_name == "precision_recall" else (entries[0][1].x[0], entries[0][1].x[-1])
    ax.set(title=f"{title} on {dataset}{note}", xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=(0, 1))
    ax.legend(loc=legend_loc, fontsize=9)
    fig.subplots_adjust(left=0.1, right=0.96, bottom=0.11, top=0.92)  # fixed labels: no tight_layout pass
    return fig


def curve_names(results: Mapping[str, TrackerResult]) -> tuple[str, ...]:
    """The plots of the benchmark the results belong to (``success``, ``precision``, ...)."""
    dataset_of(results)
    return next(iter(results.values())).curve_names


def figure_bytes(fig, fmt: str = "png") -> bytes:
    """A figure encoded as ``fmt`` (``png``, ``svg``) in memory."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    return buffer.getvalue()


def plot_curves(results: Mapping[str, TrackerResult], plot_dir: str | Path, sequences: Sequence[str] | None = None,
                tag: str = "", colors: Mapping[str, str] | None = None) -> list[Path]:
    """Draw the benchmark's plots for several trackers as PNG files in ``plot_dir``; returns their paths.

    OPE benchmarks give ``<dataset><tag>_success.png``, ``..._precision.png`` and (LasHeR, VisEvent)
    ``..._norm_precision.png``; DepthTrack gives ``DepthTrack<tag>_precision_recall.png``. With
    ``sequences`` the curves cover that subset only (e.g. one attribute; ``tag`` names it).
    """
    dataset = dataset_of(results)
    paths = []
    for name in curve_names(results):
        fig = curve_figure(results, name, sequences, tag.strip("_"), colors)
        path = atomic_write(Path(plot_dir) / f"{dataset}{tag}_{name}.png", lambda tmp: fig.savefig(tmp, format="png"),
                            suffix=".png")
        logger.info("saved %s", path)
        paths.append(path)
    return paths


def plot_attribute_curves(results: Mapping[str, TrackerResult], attributes: Mapping[str, Sequence[str]],
                          plot_dir: str | Path, colors: Mapping[str, str] | None = None) -> list[Path]:
    """:func:`plot_curves` for every attribute, files tagged ``_<attribute>``."""
    paths = []
    for attr, seqs in attributes.items():
        paths += plot_curves(results, plot_dir, sequences=list(seqs), tag=f"_{attr}", colors=colors)
    return paths
