"""Comparison tables, per-attribute scores and success / precision plots for several trackers.

Input is a mapping ``name -> result`` as returned by :func:`lib.test.analysis.compare_trackers`.
Plots are drawn with matplotlib's object API on an Agg canvas (no pyplot, no display needed) and
follow the toolkits' figures: one curve per tracker, sorted by score, the score in the legend as
``[0.362] Tracker`` - success-curve mean (AUC) for success plots, the value at 20 px / 0.2 for
precision plots, the maximum F for the DepthTrack precision-recall plot.
"""
from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lib.test.analysis.extract_results import METRICS, OPE_THRESHOLDS, LongTermResult, OPEResult, TrackerResult
from lib.test.analysis.metrics import RANK_INDEX

logger = logging.getLogger(__name__)

_PLOT_LABELS = {
    "success": ("Success plots of OPE", "Overlap threshold", "Success rate"),
    "precision": ("Precision plots of OPE", "Location error threshold (px)", "Precision"),
    "norm_precision": ("Normalized precision plots of OPE", "Normalized location error threshold",
                       "Normalized precision"),
}


def _dataset_of(results: Mapping[str, TrackerResult]) -> str:
    """The one benchmark all results belong to."""
    datasets = {r.dataset for r in results.values()}
    if len(datasets) != 1:
        raise ValueError(f"results from several benchmarks: {sorted(datasets)}")
    return datasets.pop()


def _format(value: float, percent: bool) -> str:
    """A score as ``0.5001`` or, with ``percent``, ``50.0``."""
    if np.isnan(value):
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.4f}"


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


def format_table(results: Mapping[str, TrackerResult], markdown: bool = False, percent: bool = False) -> str:
    """One row per tracker with the benchmark's scores and the number of sequences scored."""
    dataset = _dataset_of(results)
    keys = METRICS[dataset]
    header = ["Tracker", *keys, "Sequences"]
    rows = []
    for name, result in results.items():
        scores = result.scores()
        n = f"{len(result.sequences)}" + (f" ({len(result.skipped)} skipped)" if result.skipped else "")
        rows.append([name, *(_format(scores[k], percent) for k in keys), n])
    return f"{dataset}\n\n" + render_table(header, rows, markdown)


def attribute_scores(result: TrackerResult, attributes: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Scores of one tracker on the sequences of every attribute (``attribute -> {metric: value}``).

    Sequences the tracker was not scored on (``allow_missing``) are left out; an attribute without
    any scored sequence gets NaN values.
    """
    scored = set(result.sequences)
    out = {}
    for attr, seqs in attributes.items():
        subset = [s for s in seqs if s in scored]
        out[attr] = result.scores(subset) if subset else {k: float("nan") for k in METRICS[result.dataset]}
    return out


def format_attribute_table(results: Mapping[str, TrackerResult], attributes: Mapping[str, Sequence[str]],
                           metric: str, markdown: bool = False, percent: bool = False) -> str:
    """Rows = attributes (with their sequence count), columns = trackers, values = ``metric``."""
    dataset = _dataset_of(results)
    if metric not in METRICS[dataset]:
        raise KeyError(f"{dataset} has no metric '{metric}'; known: {', '.join(METRICS[dataset])}")
    per_tracker = {name: attribute_scores(r, attributes) for name, r in results.items()}
    header = ["Attribute", "Sequences", *results]
    rows = [[attr, str(len(seqs)), *(_format(per_tracker[name][attr][metric], percent) for name in results)]
            for attr, seqs in attributes.items()]
    return f"{dataset} per attribute: {metric}\n\n" + render_table(header, rows, markdown)


def write_sequence_scores(results: Mapping[str, TrackerResult], path: str | Path) -> Path:
    """Per-sequence scores of every tracker as CSV (``tracker, sequence, <metrics>``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = METRICS[_dataset_of(results)]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["tracker", "sequence", *keys])
        for name, result in results.items():
            for seq, scores in result.sequence_scores().items():
                writer.writerow([name, seq, *(f"{scores[k]:.6f}" for k in keys)])
    return path


def _new_axes():
    """A figure and axes on an Agg canvas, independent of pyplot's global state."""
    from matplotlib.figure import Figure  # noqa: PLC0415  (matplotlib only when plotting)

    fig = Figure(figsize=(7.5, 5.5), dpi=100)
    ax = fig.add_subplot()
    ax.grid(True, linestyle=":", linewidth=0.8)
    return fig, ax


def _save(fig, path: Path) -> Path:
    """Save a figure as PNG and return its path."""
    fig.tight_layout()
    fig.savefig(path, format="png")
    logger.info("saved %s", path)
    return path


def plot_curves(results: Mapping[str, TrackerResult], plot_dir: str | Path,
                sequences: Sequence[str] | None = None, tag: str = "") -> list[Path]:
    """Draw the benchmark's plots for several trackers as PNG files in ``plot_dir``; returns their paths.

    OPE benchmarks give ``<dataset><tag>_success.png``, ``..._precision.png`` and (LasHeR, VisEvent)
    ``..._norm_precision.png``; DepthTrack gives ``DepthTrack<tag>_precision_recall.png``. With
    ``sequences`` the curves cover that subset only (e.g. one attribute; ``tag`` names it).
    """
    dataset = _dataset_of(results)
    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    subset_note = f" ({tag.strip('_')}, {len(sequences)} sequences)" if sequences is not None and tag else ""
    if dataset == "DepthTrack":
        return [_plot_precision_recall(results, plot_dir / f"{dataset}{tag}_precision_recall.png",
                                       sequences, subset_note)]
    paths = []
    for curve_name in next(iter(results.values())).curves:
        title, xlabel, ylabel = _PLOT_LABELS[curve_name]
        thresholds = OPE_THRESHOLDS[curve_name]
        entries = []
        for name, result in results.items():
            scored = set(result.sequences)
            seqs = None if sequences is None else [s for s in sequences if s in scored]
            curve = result.curve(curve_name, seqs)
            score = curve.mean() if curve_name == "success" else curve[RANK_INDEX]
            entries.append((score, name, curve))
        fig, ax = _new_axes()
        for score, name, curve in sorted(entries, key=lambda e: -np.nan_to_num(e[0], nan=-1)):
            ax.plot(thresholds, curve, linewidth=2, label=f"[{score:.3f}] {name}")
        ax.set(title=f"{title} on {dataset}{subset_note}", xlabel=xlabel, ylabel=ylabel,
               xlim=(thresholds[0], thresholds[-1]), ylim=(0, 1))
        ax.legend(loc="lower left" if curve_name == "success" else "lower right", fontsize=9)
        paths.append(_save(fig, plot_dir / f"{dataset}{tag}_{curve_name}.png"))
    return paths


def _plot_precision_recall(results: Mapping[str, LongTermResult], path: Path,
                           sequences: Sequence[str] | None, subset_note: str) -> Path:
    """Tracking precision-recall curves with the F-maximising point marked, legend ``[F] name``."""
    fig, ax = _new_axes()
    entries = []
    for name, result in results.items():
        _, precision, recall = result.pr_curve(sequences)
        entries.append((result.scores(sequences), name, precision, recall))
    for scores, name, precision, recall in sorted(entries, key=lambda e: -e[0]["F"]):
        line, = ax.plot(recall, precision, linewidth=2, label=f"[{scores['F']:.3f}] {name}")
        ax.plot([scores["Re"]], [scores["Pr"]], "o", color=line.get_color())
    ax.set(title=f"Tracking precision-recall on DepthTrack{subset_note}", xlabel="Recall", ylabel="Precision",
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower left", fontsize=9)
    return _save(fig, path)


def plot_attribute_curves(results: Mapping[str, OPEResult], attributes: Mapping[str, Sequence[str]],
                          plot_dir: str | Path) -> list[Path]:
    """:func:`plot_curves` for every attribute, files tagged ``_<attribute>``."""
    paths = []
    for attr, seqs in attributes.items():
        paths += plot_curves(results, plot_dir, sequences=list(seqs), tag=f"_{attr}")
    return paths
