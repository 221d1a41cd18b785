"""The display probe: why an OpenCV window cannot open, found before Qt aborts the process."""
import ctypes.util
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lib.quickstart import display
from lib.quickstart.display import gui_unavailable_reason, x_display_problem

from tests.test_quickstart.system_tools import free_display_number, start_xvfb

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X display rules are Linux-specific")


@pytest.fixture
def qt_build(monkeypatch):
    """Answer as the opencv-python wheel does (Qt windows), whatever this machine's build is."""
    monkeypatch.setattr(display, "opencv_gui_backend", lambda: "QT5")


@pytest.fixture
def live_display():
    yield from start_xvfb()


def test_no_display_and_headless_builds(qt_build, monkeypatch):
    assert gui_unavailable_reason({}) == "there is no display (DISPLAY is not set)"
    assert "only WAYLAND_DISPLAY is set" in gui_unavailable_reason({"WAYLAND_DISPLAY": "wayland-0"})
    monkeypatch.setattr(display, "opencv_gui_backend", lambda: "NONE")
    assert "no GUI" in gui_unavailable_reason({"DISPLAY": ":0"})


def test_a_display_nobody_serves_is_named(qt_build):
    number = free_display_number()
    reason = gui_unavailable_reason({"DISPLAY": f":{number}"})
    assert reason.startswith(f"no X server answers on DISPLAY=:{number} (/tmp/.X11-unix/X{number}")
    with socket.socket() as probe:  # a TCP port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if port > display.X_TCP_PORT:
        reason = x_display_problem(f"127.0.0.1:{port - display.X_TCP_PORT}")
        assert reason.startswith(f"no X server answers on DISPLAY=127.0.0.1:{port - display.X_TCP_PORT}")
    assert "not an X display name" in x_display_problem("localhost")


def test_a_server_that_hangs_up_fails_the_handshake(qt_build):
    """A socket that accepts and closes (a dead forwarding, a wrong cookie) is caught by the X setup."""
    if ctypes.util.find_library("xcb") is None:
        message = "libxcb not installed: the handshake check is skipped on this machine (apt install libxcb1)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    reason = x_display_problem(f":{fake_x_server(answer=False)}")
    assert reason is not None and "refuses the connection" in reason


def test_a_server_that_never_answers_cannot_hang_the_probe(qt_build):
    if ctypes.util.find_library("xcb") is None:
        pytest.skip("libxcb not installed (see the test above)")
    number = fake_x_server(answer=None)
    reason = x_display_problem(f":{number}", timeout=0.5)
    assert reason == f"the X server of DISPLAY=:{number} does not answer the connection setup within 0.5 s"


def fake_x_server(answer) -> int:
    """An abstract-namespace socket on a free display number: each connection is closed at once
    (``answer=False``) or kept open without a word (``answer=None``). Returns the display number."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for number in range(free_display_number(300), 1000):
        try:
            server.bind(f"\0/tmp/.X11-unix/X{number}")
            break
        except OSError:  # taken in the abstract namespace (no socket file to see it by)
            continue
    server.listen(4)
    kept = []

    def serve():
        while True:
            connection, _ = server.accept()
            if answer is False:
                connection.close()
            else:
                kept.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    return number


LIVE_WINDOW = """
import sys, numpy, cv2
from lib.quickstart.display import gui_unavailable_reason
reason = gui_unavailable_reason()
if reason:
    sys.exit(f"probe: {reason}")
cv2.imshow("probe", numpy.zeros((8, 8, 3), numpy.uint8))
cv2.waitKey(1)
cv2.destroyAllWindows()
"""


@pytest.mark.slow
def test_a_live_display_is_accepted_and_opencv_opens_a_window_there(live_display):
    """With Xvfb the probe says yes, and OpenCV really shows a window (in a child process: Qt may abort)."""
    if display.opencv_gui_backend() == "NONE":
        pytest.fail("this OpenCV build has no GUI: install.sh installs opencv-python, not the headless wheel")
    assert x_display_problem(live_display) is None
    result = subprocess.run([sys.executable, "-c", LIVE_WINDOW], env=dict(os.environ, DISPLAY=live_display),
                            cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
