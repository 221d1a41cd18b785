"""What `bash install.sh` leaves behind: one OpenCV with its GUI functions, and the package data."""
import importlib.metadata as metadata

import pytest


def test_one_opencv_with_the_gui_functions():
    import cv2

    installed = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "opencv-python" in installed
    assert not {"opencv-python-headless", "opencv-contrib-python-headless"} & installed, \
        "a headless OpenCV shares the cv2/ folder with opencv-python; run `bash install.sh` again"
    assert callable(getattr(cv2, "selectROI", None))


@pytest.mark.parametrize("name", ["cstrack_s1/cstrack_s1.yaml", "cstrack_s2/cstrack_s2.yaml"])
def test_experiment_yamls_are_package_data(name):
    """lib/experiments links to experiments/: what a wheel ships so load_config works when installed."""
    from pathlib import Path

    import lib

    assert (Path(lib.__file__).parent / "experiments" / name).is_file()
