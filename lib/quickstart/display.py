"""Can ``cv2.selectROI`` open a window here? Asked before OpenCV touches the display.

OpenCV's Qt backend aborts the whole process (exit status 134, no Python exception) when it cannot
connect to the X display it is given, e.g. a ``DISPLAY`` left over from an SSH session whose
forwarding is gone. So the display is probed first, the way an X client starts: connect to the
server's socket (``/tmp/.X11-unix/X<n>`` or TCP port ``6000 + n``), then, where ``libxcb`` is
installed, complete the X handshake (which also checks the authorisation cookie).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import socket
import sys
import threading
from typing import Mapping, Optional

import cv2

X_TCP_PORT = 6000
CONNECT_TIMEOUT_S = 2.0
_DISPLAY_NAME = re.compile(r"^(?:(?P<protocol>[\w-]+)/)?(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$")


def opencv_gui_backend() -> str:
    """The GUI backend of this OpenCV build as its build information names it (``QT5``, ``GTK3``, ``NONE``)."""
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip().upper()
    return "UNKNOWN"


def _connect_socket(family: int, address, timeout: float) -> Optional[str]:
    """None if a stream socket connects to ``address``, else the OS error text."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
        return None
    except OSError as e:
        return e.strerror or str(e)


def _xcb_handshake_problem(display: str, timeout: float) -> Optional[str]:
    """Why libxcb cannot complete the X connection setup with ``display`` (None if it can, or if libxcb is
    not installed). Runs in a helper thread so that a server that accepts and never answers cannot hang
    the caller (ctypes releases the GIL during the call)."""
    library = ctypes.util.find_library("xcb")
    if library is None:
        return None
    xcb = ctypes.CDLL(library)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    outcome = {}

    def handshake() -> None:
        connection = xcb.xcb_connect(display.encode(), None)
        try:
            outcome["error"] = xcb.xcb_connection_has_error(connection)
        finally:
            xcb.xcb_disconnect(connection)

    worker = threading.Thread(target=handshake, name="x-display-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if "error" not in outcome:
        return f"the X server of DISPLAY={display} does not answer the connection setup within {timeout:g} s"
    if outcome["error"]:
        return f"the X server of DISPLAY={display} refuses the connection (authorisation: check XAUTHORITY)"
    return None


def x_display_problem(display: str, timeout: float = CONNECT_TIMEOUT_S) -> Optional[str]:
    """Why the X display ``display`` (a ``DISPLAY`` value) cannot be used, or None when a client can connect."""
    match = _DISPLAY_NAME.match(display)
    if match is None:
        return f"DISPLAY={display!r} is not an X display name (expected e.g. ':0' or 'host:10.0')"
    host, number = match.group("host"), int(match.group("number"))
    if host in ("", "unix") or match.group("protocol") == "unix":
        path = f"/tmp/.X11-unix/X{number}"
        # Linux servers also listen on the abstract name, which works where /tmp is not shared (containers).
        error = _connect_socket(socket.AF_UNIX, "\0" + path, timeout) if sys.platform.startswith("linux") else None
        if error is not None or not sys.platform.startswith("linux"):
            error = _connect_socket(socket.AF_UNIX, path, timeout)
        where = path
    else:
        error = _connect_socket(socket.AF_INET, (host, X_TCP_PORT + number), timeout)
        where = f"{host}:{X_TCP_PORT + number}"
    if error is not None:
        return f"no X server answers on DISPLAY={display} ({where}: {error})"
    return _xcb_handshake_problem(display, timeout)


def gui_unavailable_reason(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Why ``cv2.selectROI`` cannot open a window here, or None when it can."""
    environ = os.environ if environ is None else environ
    backend = opencv_gui_backend()
    if backend == "NONE":
        return "this OpenCV build has no GUI (opencv-python-headless)"
    if not sys.platform.startswith("linux"):
        return None
    display = environ.get("DISPLAY")
    if display:
        return x_display_problem(display)
    wayland = environ.get("WAYLAND_DISPLAY")
    if wayland and backend.startswith("GTK"):
        socket_path = os.path.join(environ.get("XDG_RUNTIME_DIR", ""), wayland)
        return None if os.path.exists(socket_path) else f"the Wayland display {socket_path} does not exist"
    if wayland:
        return (f"OpenCV's {backend} windows need an X display (DISPLAY, e.g. from XWayland), "
                f"only WAYLAND_DISPLAY is set")
    return "there is no display (DISPLAY is not set)"


__all__ = ["gui_unavailable_reason", "opencv_gui_backend", "x_display_problem"]
