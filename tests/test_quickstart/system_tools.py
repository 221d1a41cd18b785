"""System programs some quickstart tests drive (Chromium, Xvfb): found, or a skip / a CI failure."""
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def require_program(names, why: str) -> str:
    """The path of the first of ``names`` on PATH; skip with the reason, or fail when ``CI`` is set."""
    for name in (names,) if isinstance(names, str) else names:
        path = shutil.which(name)
        if path:
            return path
    message = f"{' / '.join((names,) if isinstance(names, str) else names)} not found: {why}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_dump_dom(page: Path, budget_ms: int = 8000, timeout_s: int = 90) -> str:
    """The DOM of a local page after ``budget_ms`` of virtual time, from headless Chromium."""
    chromium = require_program(CHROMIUM_CANDIDATES, "the browser test needs Chromium (apt install chromium)")
    result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio",
                             f"--virtual-time-budget={budget_ms}", "--dump-dom", page.as_uri()],
                            capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def free_display_number(start: int = 90) -> int:
    """A display number no local X server uses (no socket file)."""
    return next(n for n in range(start, start + 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())


def start_xvfb() -> Iterator[Optional[str]]:
    """Generator for a fixture: a live virtual X display ``:N`` (Xvfb), stopped afterwards."""
    xvfb = require_program("Xvfb", "the live-display test needs Xvfb (apt install xvfb)")
    number = free_display_number()
    proc = subprocess.Popen([xvfb, f":{number}", "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Xvfb :{number} did not start (exit status {proc.poll()})")
            time.sleep(0.1)
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
