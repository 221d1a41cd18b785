"""Write docs/images/report.png: a screenshot of the HTML evaluation report on the synthetic test case.

    python -m tests.tools.report_screenshot [--out docs/images/report.png]

The report is made from ``tests/test_evaluation/report_data.py`` (three synthetic RGB-T sequences, two
trackers) and photographed with headless Chromium, the browser of the report's test.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import cv2

from lib.test.analysis.html_report import write_html_report
from lib.utils.files import atomic_write
from tests.test_evaluation.report_data import make_report_case
from tests.test_evaluation.test_html_browser import WINDOW, chromium, run_chromium

REPO_ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "images" / "report.png")
    parser.add_argument("--width", type=int, default=1000, help="width of the saved image in pixels")
    args = parser.parse_args(argv)
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        parser.error("Chromium is not installed (install.sh installs the Debian package 'chromium')")
    with tempfile.TemporaryDirectory(prefix="cstrack_report_") as tmp:
        root = Path(tmp)
        case = make_report_case(root)
        report = write_html_report(root / "report.html", "LasHeR", case.data, case.trackers,
                                   title="LasHeR evaluation (synthetic example)")
        shot = root / "shot.png"
        run_chromium(chromium(), root / "profile", f"--screenshot={shot}", report.as_uri())
        image = cv2.imread(str(shot), cv2.IMREAD_COLOR)
    rows = (image < 250).any(axis=(1, 2)).nonzero()[0]  # crop the empty page bottom
    image = image[:rows[-1] + 16] if len(rows) else image
    scale = args.width / WINDOW[0]
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    atomic_write(args.out, lambda tmp: cv2.imwrite(tmp, image, [cv2.IMWRITE_PNG_COMPRESSION, 9]), suffix=".png")
    print(f"{args.out}: {image.shape[1]}x{image.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
