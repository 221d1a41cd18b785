"""The HTML report rendered by a real headless Chromium: the page draws its tables and plots, sorts, loads nothing.

Chromium (Debian package, installed by install.sh) is run twice on a copy of the report with a small probe
script appended: ``--dump-dom`` gives the DOM after the page's own script ran (sorted by the URL hash,
then by a scripted click on a column header) plus the probe's layout rectangles and resource list;
``--screenshot`` at the same window size gives the pixels of those rectangles. Without Chromium the test
is skipped with the reason, or fails when ``CI`` is set.
"""
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest

from lib.test.analysis.html_report import TRACKER_COLORS, write_html_report

from tests.test_evaluation.report_data import SEQUENCES, make_report_case

WINDOW = (1400, 2400)

# Appended to a copy of the report: after load, record where the score table, the plots and the
# sequence table are, the order of the sequence rows (as sorted by the URL hash), then click the
# "Bad SR" header and record the order again, and list every resource the page fetched.
PROBE = """<script>
window.addEventListener('load', function () {
  function rect(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }
  function order() {
    return Array.prototype.map.call(document.querySelectorAll('#sequence-table tbody tr'), function (tr) {
      return tr.id; });
  }
  var table = document.getElementById('sequence-table'), probe = {};
  probe.scoreTable = rect(document.getElementById('score-table'));
  probe.plots = Array.prototype.map.call(document.querySelectorAll('img.plot'), function (img) {
    return rect(img).concat([img.naturalWidth]); });
  probe.thumbs = Array.prototype.map.call(document.querySelectorAll('img.thumb'), function (img) {
    return img.naturalWidth; });
  probe.sequenceTable = rect(table);
  probe.hashOrder = order();
  probe.hashSorted = table.getAttribute('data-sorted');
  document.querySelector('th[data-key="Bad:SR"]').click();
  probe.clickOrder = order();
  probe.clickSorted = table.getAttribute('data-sorted');
  probe.resources = performance.getEntriesByType('resource').map(function (e) { return e.name; })
    .filter(function (name) { return name.indexOf('data:') !== 0; });
  document.body.setAttribute('data-probe', JSON.stringify(probe));
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (install.sh installs the Debian package 'chromium')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_chromium(binary, profile, *args) -> subprocess.CompletedProcess:
    """Headless Chromium with every background network feature off (the machine has no network)."""
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--force-device-scale-factor=1",
               "--hide-scrollbars", "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


class SequenceCells(HTMLParser):
    """``data-value`` of every cell of the sequence table's rows, by row id."""

    def __init__(self, text):
        super().__init__()
        self.rows, self._row, self._in_table = {}, None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._in_table = attrs.get("id") == "sequence-table"
        elif self._in_table and tag == "tr" and "id" in attrs:
            self._row = self.rows.setdefault(attrs["id"], [])
        elif self._row is not None and tag == "td":
            self._row.append(attrs.get("data-value"))


def is_sorted(order, values, descending):
    keyed = [values[row] for row in order]
    return keyed == sorted(keyed, reverse=descending)


@pytest.mark.slow
def test_report_renders_sorts_and_stays_offline_in_chromium(tmp_path):
    binary = chromium()
    case = make_report_case(tmp_path)
    report = write_html_report(tmp_path / "report.html", "LasHeR", case.data, case.trackers)
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    url = probed.as_uri() + "#sort=Good%3ASR-asc"

    dom = run_chromium(binary, tmp_path / "profile", "--dump-dom", url).stdout
    match = re.search(r'data-probe="([^"]*)"', dom)
    assert match, "the page's scripts did not run (no probe output in the DOM)"
    probe = json.loads(match.group(1).replace("&quot;", '"'))

    # sorting: by the URL hash on load, by a click afterwards; rows checked against their own cell values
    cells = SequenceCells(report.read_text()).rows
    assert sorted(cells) == sorted(f"seq-{s}" for s in SEQUENCES)
    good_sr = {row: float(values[4]) for row, values in cells.items()}  # name, frames, Good PR, NPR, SR
    bad_sr = {row: float(values[7]) for row, values in cells.items()}
    assert probe["hashSorted"] == "Good:SR-asc" and is_sorted(probe["hashOrder"], good_sr, descending=False)
    assert probe["clickSorted"] == "Bad:SR-desc" and is_sorted(probe["clickOrder"], bad_sr, descending=True)
    assert len(set(good_sr.values())) == len(SEQUENCES)  # distinct values, so the order is a real check
    assert probe["resources"] == [], "the page fetched something other than its inline data"
    assert len(probe["plots"]) == 5 and all(p[4] > 0 for p in probe["plots"]), "a plot image did not decode"
    assert len(probe["thumbs"]) == 4 * len(SEQUENCES) and all(w > 0 for w in probe["thumbs"])

    shot = tmp_path / "shot.png"
    run_chromium(binary, tmp_path / "profile", f"--screenshot={shot}", url)
    image = cv2.imread(str(shot), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])

    def region(rect):
        x, y, w, h = (int(round(v)) for v in rect[:4])
        assert w > 50 and h > 20 and y + h <= WINDOW[1], f"region {rect} is not on the screenshot"
        return image[y:y + h, x:x + w]

    table = region(probe["scoreTable"])
    assert table.std() > 20, "the score table region is blank"
    for rect in probe["plots"][:3]:
        plot = region(rect)
        assert plot.std() > 20, "a plot region is blank"
        curve_pixels = 0
        for color in TRACKER_COLORS[:2]:  # the two trackers' curves
            bgr = np.array([int(color[i:i + 2], 16) for i in (5, 3, 1)])
            curve_pixels += int((np.abs(plot.astype(int) - bgr).sum(axis=2) < 60).sum())
        assert curve_pixels > 300, "no tracker curve drawn in a plot region"
    assert region(probe["sequenceTable"]).std() > 20
