"""A self-contained HTML evaluation report: one file that opens offline in any browser.

Contents: the score table of every compared tracker (with FPS when the runner's time files exist),
the benchmark's plots (success / precision / normalised precision, or DepthTrack's precision-recall),
per-attribute scores and success plots where attribute files exist, an optional embedded video, and a
per-sequence table sortable by any column (a few lines of inline JavaScript) whose rows carry a strip
of thumbnails with the ground truth and each tracker's box on RGB and on X. Plots are PNG and
thumbnails JPEG, base64-inlined; there is no external script, style sheet or font.

Opening ``report.html#sort=<column key>-<asc|desc>`` sorts the sequence table on load (column keys
are ``name``, ``frames`` and ``<tracker>:<score>``, e.g. ``#sort=CSTrack%3ASR-asc``)::

    from lib.test.analysis.html_report import write_html_report
    write_html_report("report.html", "LasHeR", "data/lasher/testingset",
                      {"CSTrack": "output/test/tracking_results/cstrack_s2/LasHeR_ep0050"})
"""
from __future__ import annotations

import base64
import html
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lib.test.analysis import report, thumbnails
from lib.test.analysis.extract_results import compare_trackers, load_ground_truth
from lib.test.analysis.protocol import GroundTruth, PathLike, TrackerResult, get_protocol
from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

GT_COLOR = "#2ca02c"
#: Tracker colours in plots and thumbnails, in the order the trackers are given (green is the ground truth).
TRACKER_COLORS = ("#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#8c564b", "#bcbd22",
                  "#7f7f7f")
VIDEO_TYPES = {".webm": "video/webm", ".mp4": "video/mp4", ".ogv": "video/ogg"}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:16px 24px;
max-width:1800px;color:#222;background:#fff}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta,.note{color:#555;font-size:.9em;margin:4px 0}
table{border-collapse:collapse;font-size:.9em}th,td{padding:3px 8px;border-bottom:1px solid #e4e4e4}
th{background:#f3f3f3;text-align:left;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:bold}th[data-type]{cursor:pointer}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;border:1px solid #0003}
.plots{display:flex;flex-wrap:wrap;gap:8px}.plots img{width:440px;max-width:100%;height:auto}
.scroll{overflow-x:auto}
details{margin:4px 0}summary{cursor:pointer}
td.strip{white-space:nowrap}td.strip img{margin-right:3px;vertical-align:top}
video{max-width:100%}
"""

_SCRIPT = """
(function () {
  function cellValue(row, col, numeric) {
    var cell = row.cells[col], raw = cell.getAttribute('data-value');
    if (raw === null) raw = cell.textContent;
    if (!numeric) return raw.toLowerCase();
    var v = parseFloat(raw);
    return isNaN(v) ? null : v;
  }
  function sortTable(table, col, dir) {
    var head = table.tHead.rows[0].cells, numeric = head[col].getAttribute('data-type') === 'num';
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows), sign = dir === 'asc' ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
      if (x === null || y === null) return (x === null) - (y === null);
      return x < y ? -sign : x > y ? sign : 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < head.length; i++) head[i].removeAttribute('aria-sort');
    head[col].setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
    table.setAttribute('data-sorted', head[col].getAttribute('data-key') + '-' + dir);
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (!th.hasAttribute('data-type')) return;
      th.addEventListener('click', function () {
        sortTable(table, col, th.getAttribute('aria-sort') === 'descending' ? 'asc' : 'desc');
      });
    });
  });
  var match = /sort=([^&]+)-(asc|desc)/.exec(location.hash);
  var table = document.getElementById('sequence-table');
  if (match && table) {
    var key = decodeURIComponent(match[1]), head = table.tHead.rows[0].cells;
    for (var c = 0; c < head.length; c++) if (head[c].getAttribute('data-key') === key) sortTable(table, c, match[2]);
  }
})();
"""


def tracker_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per tracker, in the order given (cycling after nine trackers)."""
    return {name: TRACKER_COLORS[i % len(TRACKER_COLORS)] for i, name in enumerate(names)}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{color}"></span>'


def _plot_imgs(results: Mapping[str, TrackerResult], colors: Mapping[str, str], sequences: Sequence[str] | None = None,
               subset: str = "", first_only: bool = False) -> str:
    """The benchmark's plots (``first_only``: its success / precision-recall plot) as inline PNG images."""
    imgs = []
    names = report.curve_names(results)
    for name in names[:1] if first_only else names:
        fig = report.curve_figure(results, name, sequences, subset, colors, size=(6.4, 4.6))
        alt = f"{name.replace('_', ' ')} plot" + (f" ({subset})" if subset else "")
        imgs.append(f'<img class="plot" alt="{_esc(alt)}" src="{_data_uri(report.figure_bytes(fig), "image/png")}">')
    return '<div class="plots">' + "".join(imgs) + "</div>"


def _score_section(results: Mapping[str, TrackerResult], colors: Mapping[str, str]) -> str:
    header, rows = report.score_rows(results)
    keys = get_protocol(report.dataset_of(results)).score_keys
    best = {k: max((r.scores()[k] for r in results.values()), default=np.nan) for k in keys}
    body = []
    for (name, result), row in zip(results.items(), rows):
        scores = result.scores()
        cells = [f"<td>{_swatch(colors[name])}{_esc(name)}</td>"]
        for key, text in zip(keys, row[1:]):
            cls = "num best" if len(results) > 1 and scores[key] == best[key] else "num"
            cells.append(f'<td class="{cls}">{_esc(text)}</td>')
        cells += [f'<td class="num">{_esc(text)}</td>' for text in row[1 + len(keys):]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    notes = []
    if report.has_times(results):
        notes.append("FPS: frames after the first divided by the tracker's summed time per frame from the runner's "
                     "<code>&lt;seq&gt;_time.txt</code> files (initialisation frame and image reading not included).")
    for name, result in results.items():
        if result.skipped:
            notes.append(f"{_esc(name)}: {len(result.skipped)} sequences without a usable result were not scored: "
                         + _esc(", ".join(sorted(result.skipped))))
    return ('<section id="scores"><h2>Scores</h2><table id="score-table"><thead><tr>'
            + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr></thead><tbody>" + "".join(body)
            + "</tbody></table>" + "".join(f'<p class="note">{n}</p>' for n in notes) + "</section>")


def _attribute_section(results: Mapping[str, TrackerResult], truth: GroundTruth, colors: Mapping[str, str]) -> str:
    note = f'<p class="note">{_esc(truth.attribute_note())}</p>'
    if not truth.attributes:
        return f'<section id="attributes"><h2>Per attribute</h2>{note}</section>'
    key = get_protocol(truth.dataset).main_score
    per_tracker = {name: report.attribute_scores(r, truth.attributes) for name, r in results.items()}
    rows = "".join(f"<tr><td>{_esc(attr)}</td><td class=\"num\">{len(seqs)}</td>"
                   + "".join(f'<td class="num">{report.format_score(per_tracker[n][attr][key])}</td>' for n in results)
                   + "</tr>" for attr, seqs in truth.attributes.items())
    table = ('<table id="attribute-table"><thead><tr><th>Attribute</th><th>Sequences</th>'
             + "".join(f"<th>{_swatch(colors[n])}{_esc(n)} {key}</th>" for n in results) + "</tr></thead><tbody>"
             + rows + "</tbody></table>")
    plots = "".join(f"<details><summary>{_esc(attr)} ({len(seqs)} sequences)</summary>"
                    f"{_plot_imgs(results, colors, list(seqs), attr, first_only=True)}</details>"
                    for attr, seqs in truth.attributes.items())
    return f'<section id="attributes"><h2>Per attribute</h2>{note}{table}{plots}</section>'


def _load_frames(truth: GroundTruth, frames_root: PathLike | None) -> tuple[dict, str]:
    """``{sequence name: Sequence}`` with readable frames, and a note when there are none.

    ``frames_root`` None means "the ground-truth folder, if it is a dataset root": a folder of
    ``<seq>.txt`` files has no frames, which the note says. An explicit folder must load.
    """
    from lib.test.evaluation.data import DatasetError  # noqa: PLC0415  (frames only for thumbnails)
    from lib.test.evaluation.datasets import load_benchmark  # noqa: PLC0415

    root = truth.root if frames_root is None else Path(frames_root)
    try:
        benchmark = load_benchmark(truth.dataset, str(root), truth.sequences)
    except (DatasetError, OSError) as e:
        if frames_root is not None:
            raise
        return {}, (f"No thumbnails: {root} is not a {truth.dataset} dataset root with frames ({e}). "
                    f"Pass the dataset root as frames_root (--frames DIR).")
    return {seq.name: seq for seq in benchmark.sequences}, ""


def _thumbnail_cell(seq_name: str, frames, results: Mapping[str, TrackerResult], truth: GroundTruth,
                    colors: Mapping[str, str], count: int, height: int) -> str:
    """The ``<td>`` of one sequence's thumbnail strip (a note in the cell when it cannot be drawn)."""
    protocol = get_protocol(truth.dataset)
    gt = truth.boxes[seq_name]
    try:
        boxes = [(gt, thumbnails.hex_to_bgr(GT_COLOR))]
        for name, result in results.items():
            if seq_name in result.sequences and result.results_dir is not None:
                predicted = protocol.result_boxes(result.results_dir, seq_name, truth)
                boxes.append((predicted, thumbnails.hex_to_bgr(colors[name])))
        imgs = []
        for i in thumbnails.frame_indices(min(len(frames), len(gt)), count):
            tile = thumbnails.thumbnail(frames.frame(i), [(b[i], c) for b, c in boxes], height, f"#{i + 1}")
            imgs.append(f'<img class="thumb" alt="frame {i + 1}" title="frame {i + 1}" '
                        f'src="{_data_uri(thumbnails.encode_jpeg(tile), "image/jpeg")}">')
    except (OSError, ValueError) as e:
        logger.warning("no thumbnails for %s: %s", seq_name, e)
        return f'<td class="strip note">{_esc(e)}</td>'
    return '<td class="strip">' + "".join(imgs) + "</td>"


def _sequence_section(results: Mapping[str, TrackerResult], truth: GroundTruth, colors: Mapping[str, str],
                      frames_root: PathLike | None, count: int, height: int) -> str:
    keys = get_protocol(truth.dataset).score_keys
    frames, frames_note = _load_frames(truth, frames_root) if count > 0 else ({}, "")
    per_seq = {name: r.sequence_scores() for name, r in results.items()}
    fps = {name: r.sequence_fps() for name, r in results.items()} if report.has_times(results) else {}
    head = ['<th data-type="text" data-key="name">Sequence</th>', '<th data-type="num" data-key="frames">Frames</th>']
    head += [f'<th data-type="num" data-key="{_esc(f"{name}:{key}")}">{_swatch(colors[name])}{_esc(name)} {key}</th>'
             for name in results for key in keys]
    head += [f'<th data-type="num" data-key="{_esc(f"{name}:FPS")}">{_swatch(colors[name])}{_esc(name)} FPS</th>'
             for name in fps]
    if frames:
        head.append(f"<th>Frames: {_swatch(GT_COLOR)}ground truth and the trackers' boxes, RGB above X</th>")
    rows = []
    for seq in truth.sequences:
        cells = [f"<td>{_esc(seq)}</td>", f'<td class="num" data-value="{len(truth.boxes[seq])}">'
                                          f"{len(truth.boxes[seq])}</td>"]
        for name in results:
            for key in keys:
                value = per_seq[name].get(seq, {}).get(key, float("nan"))
                data = "" if np.isnan(value) else f"{value:.6f}"
                cells.append(f'<td class="num" data-value="{data}">{report.format_score(value)}</td>')
        for name, speeds in fps.items():
            value = speeds.get(seq, float("nan"))
            data = "" if np.isnan(value) else f"{value:.3f}"
            cells.append(f'<td class="num" data-value="{data}">{report.format_fps(value)}</td>')
        if frames:
            cells.append(_thumbnail_cell(seq, frames[seq], results, truth, colors, count, height))
        rows.append(f'<tr id="seq-{_esc(seq)}">' + "".join(cells) + "</tr>")
    note = '<p class="note">Click a column header to sort.' + (f" {_esc(frames_note)}" if frames_note else "") + "</p>"
    return ('<section id="sequences"><h2>Per sequence</h2>' + note
            + '<div class="scroll"><table id="sequence-table" class="sortable"><thead><tr>' + "".join(head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div></section>")


def _video_section(video: PathLike) -> str:
    path = Path(video)
    mime = VIDEO_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"{path}: browsers play {', '.join(VIDEO_TYPES)} videos; convert it or leave it out")
    data = path.read_bytes()
    logger.info("embedding %s (%.1f MB)", path, len(data) / 1e6)
    return (f'<section id="video"><h2>Video</h2><p class="note">{_esc(path.name)}</p>'
            f'<video controls muted loop preload="metadata" src="{_data_uri(data, mime)}"></video></section>')


def render_html_report(results: Mapping[str, TrackerResult], truth: GroundTruth, *, title: str | None = None,
                       frames_root: PathLike | None = None, video: PathLike | None = None,
                       thumbnails_per_sequence: int = 4, thumbnail_height: int = 96, vot_legacy: bool = True) -> str:
    """The report of already scored trackers (``compare_trackers`` output) as one HTML string.

    Args:
        results: tracker name -> result, all of ``truth``'s benchmark.
        truth: the ground truth the results were scored against (sequences, attributes).
        title: page title (default ``"<benchmark> evaluation"``).
        frames_root: dataset root to read thumbnail frames from; default the ground-truth folder when
            it is a dataset root (otherwise the report says there are no thumbnails and why).
        video: a ``.webm`` / ``.mp4`` / ``.ogv`` file to embed.
        thumbnails_per_sequence: evenly spaced frames shown per sequence (0: no thumbnails).
        thumbnail_height: pixel height of each RGB / X half of a thumbnail.
        vot_legacy: the DepthTrack overlap rule the results were scored with (stated in the header).
    """
    dataset = report.dataset_of(results)
    if dataset != truth.dataset:
        raise ValueError(f"results are for {dataset}, the ground truth for {truth.dataset}")
    protocol = get_protocol(dataset)
    colors = tracker_colors(list(results))
    title = title or f"{dataset} evaluation"
    rule = protocol.rule_note(vot_legacy)
    rule = f"; {rule}" if rule else ""
    meta = (f"{_esc(protocol.toolkit)}{_esc(rule)}. {len(truth.sequences)} sequences, ground truth "
            f"{_esc(truth.root)}. Written {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.")
    parts = [f'<header><h1>{_esc(title)}</h1><p class="meta">{meta}</p></header>',
             _score_section(results, colors),
             '<section id="plots"><h2>Curves</h2>' + _plot_imgs(results, colors) + "</section>",
             _attribute_section(results, truth, colors)]
    if video is not None:
        parts.append(_video_section(video))
    parts.append(_sequence_section(results, truth, colors, frames_root, thumbnails_per_sequence, thumbnail_height))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head>\n<body>\n" + "\n".join(parts)
            + f"\n<script>{_SCRIPT}</script>\n</body></html>\n")


def write_html_report(path: PathLike, benchmark: str, gt: PathLike | GroundTruth, trackers: Mapping[str, PathLike], *,
                      title: str | None = None, frames_root: PathLike | None = None, video: PathLike | None = None,
                      sequences: Sequence[str] | PathLike | None = None, attributes: PathLike | None = None,
                      image_size: tuple[int, int] | None = None, allow_missing: bool = False, vot_legacy: bool = True,
                      thumbnails_per_sequence: int = 4) -> Path:
    """Score ``trackers`` (name -> results folder) on ``benchmark`` and write the HTML report to ``path``.

    ``gt``, ``sequences``, ``attributes``, ``image_size``, ``allow_missing`` and ``vot_legacy`` are
    those of :func:`lib.test.analysis.compare_trackers` / ``load_ground_truth``; the others those of
    :func:`render_html_report`. The file is written atomically; returns its path.
    """
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(benchmark, gt, sequences, attributes=attributes,
                                                                     image_size=image_size)
    results = compare_trackers(benchmark, trackers, truth, sequences=sequences, allow_missing=allow_missing,
                               vot_legacy=vot_legacy)
    page = render_html_report(results, truth, title=title, frames_root=frames_root, video=video,
                              thumbnails_per_sequence=thumbnails_per_sequence, vot_legacy=vot_legacy)
    written = atomic_write_text(path, page)
    logger.info("wrote %s (%.1f MB)", written, len(page) / 1e6)
    return written
