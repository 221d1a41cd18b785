"""The HTML report's content, parsed without a browser (tests/test_evaluation/test_html_browser.py renders it)."""
import base64
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest

from lib.test.analysis import evaluate_tracker
from lib.test.analysis.html_report import GT_COLOR, write_html_report
from lib.test.evaluation.data import DatasetError

from tests.test_evaluation import benchmark_data as syn
from tests.test_evaluation.report_data import INIT_SECONDS, SEQUENCES, frame_seconds, make_report_case


class Elements(HTMLParser):
    """Every start tag as ``(tag, attributes)``, and the text of every table cell in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.cells, self._cell = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def decode_data_uri(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix), uri[:40]
    return base64.b64decode(uri[len(prefix):])


@pytest.fixture(scope="module")
def lasher_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    case = make_report_case(root)
    path = write_html_report(root / "out" / "report.html", "lasher", case.data, case.trackers, title="Synthetic <run>")
    return case, path.read_text(encoding="utf-8")


def test_tables_hold_the_scores_fps_and_every_sequence(lasher_report):
    case, text = lasher_report
    page = Elements(text)
    assert "<title>Synthetic &lt;run&gt;</title>" in text
    cells = page.cells
    start = cells.index("Tracker")
    assert cells[start:start + 6] == ["Tracker", "PR", "NPR", "SR", "FPS", "Sequences"]
    for row, name in enumerate(("Good", "Bad")):
        expected = evaluate_tracker("LasHeR", case.trackers[name], case.data)
        frames = sum(n - 1 for n in SEQUENCES.values())
        seconds = sum((n - 1) * frame_seconds(name, seq) for seq, n in SEQUENCES.items())
        got = cells[start + 6 * (row + 1):start + 6 * (row + 2)]
        assert got == [name, *(f"{expected[k]:.4f}" for k in ("PR", "NPR", "SR")), f"{frames / seconds:.1f}", "3"]
    assert INIT_SECONDS > 0  # the initialisation frame is in the files but not in the FPS above
    rows = page.find("tr")
    assert [r["id"] for r in rows if r.get("id", "").startswith("seq-")] == [f"seq-{s}" for s in SEQUENCES]
    keys = [th["data-key"] for th in page.find("th") if "data-key" in th]
    assert keys == ["name", "frames", "Good:PR", "Good:NPR", "Good:SR", "Bad:PR", "Bad:NPR", "Bad:SR",
                    "Good:FPS", "Bad:FPS"]


def test_plots_attributes_and_thumbnails_are_inline_images(lasher_report):
    _, text = lasher_report
    page = Elements(text)
    plots = page.find("img", **{"class": "plot"})
    # 3 curves overall + the success plot of each attribute found beside the dataset root (LI, FM)
    assert len(plots) == 5
    assert "attributes from" in text and "<summary>LI (1 sequences)</summary>" in text
    for img in plots[:3]:
        image = cv2.imdecode(np.frombuffer(decode_data_uri(img["src"], "image/png"), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[0] > 200 and image.std() > 10
    thumbs = page.find("img", **{"class": "thumb"})
    assert len(thumbs) == 4 * len(SEQUENCES)
    first = cv2.imdecode(np.frombuffer(decode_data_uri(thumbs[0]["src"], "image/jpeg"), np.uint8), cv2.IMREAD_COLOR)
    assert first.shape[0] == 2 * 96 + 2  # RGB above X, 96 px each, a 2 px gap
    green = np.array([int(GT_COLOR[i:i + 2], 16) for i in (5, 3, 1)])  # BGR
    near_green = (np.abs(first.astype(int) - green).sum(axis=2) < 90).sum()
    assert near_green > 40, "the ground-truth box is not drawn"


def test_the_page_needs_no_network(lasher_report):
    _, text = lasher_report
    page = Elements(text)
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith(("data:", "#")), (tag, attrs[key][:60])
    assert not page.find("link") and "@import" not in text and "url(" not in text
    assert [a for a in page.find("script") if "src" in a] == []


def test_without_frames_the_report_says_why(tmp_path):
    case = make_report_case(tmp_path, with_attributes=False)
    flat = tmp_path / "annos"
    flat.mkdir()
    for seq in SEQUENCES:
        (flat / f"{seq}.txt").write_text((case.data / seq / "visible.txt").read_text())
    text = write_html_report(tmp_path / "r.html", "LasHeR", flat, case.trackers).read_text()
    assert "No thumbnails:" in text and "--frames DIR" in text and 'class="thumb"' not in text
    text = write_html_report(tmp_path / "r.html", "LasHeR", flat, case.trackers, frames_root=case.data).read_text()
    assert text.count('class="thumb"') == 4 * len(SEQUENCES)
    with pytest.raises(DatasetError):
        write_html_report(tmp_path / "r.html", "LasHeR", flat, case.trackers, frames_root=flat)


def test_video_is_embedded_and_other_types_are_refused(tmp_path):
    case = make_report_case(tmp_path, with_attributes=False)
    video = tmp_path / "demo.webm"
    video.write_bytes(b"\x1aE\xdf\xa3 not really a video")
    text = write_html_report(tmp_path / "r.html", "LasHeR", case.data, case.trackers, video=video,
                             thumbnails_per_sequence=0).read_text()
    [tag] = Elements(text).find("video")
    assert decode_data_uri(tag["src"], "video/webm") == video.read_bytes()
    with pytest.raises(ValueError, match=r"demo\.avi.*\.webm"):
        write_html_report(tmp_path / "r.html", "LasHeR", case.data, case.trackers, video=tmp_path / "demo.avi")


def test_depthtrack_report_draws_the_vot_trajectory(tmp_path):
    data = syn.make_rgbd(tmp_path / "sequences", {"bag": 12}, absent={"bag": [7]})
    gt = np.loadtxt(data / "bag" / "groundtruth.txt", delimiter=",")
    folder = tmp_path / "results" / "T" / "rgbd-unsupervised" / "bag"
    folder.mkdir(parents=True)
    rows = ["1"] + ["0" if np.isnan(box).any() else ",".join(f"{v:g}" for v in box) for box in gt[1:]]
    (folder / "bag_001.txt").write_text("\n".join(rows) + "\n")
    (folder / "bag_001_confidence.value").write_text("\n" + "0.9\n" * 11)
    text = write_html_report(tmp_path / "r.html", "DepthTrack", data, {"T": folder.parent}).read_text()
    page = Elements(text)
    assert len(page.find("img", **{"class": "plot"})) == 1  # the precision-recall plot
    assert len(page.find("img", **{"class": "thumb"})) == 4
    assert "empty-region overlap rule of vot-toolkit 0.5.3" in text
    assert "DepthTrack has no attribute files" in text
