"""Annotated videos: the codec per extension, the fallback and its notice, decoding, and playback in Chromium."""
import json
import logging

import cv2
import numpy as np
import pytest

from lib.quickstart import visualize
from lib.quickstart.visualize import Codec, VideoWriteError, check_video, write_video

from tests.test_quickstart.system_tools import chromium_dump_dom

FRAMES, FPS, SIZE = 12, 6.0, (120, 200)  # 2 seconds of 200x120 frames


def frames():
    """Moving white squares on grey: each frame differs, so a decoder that drops frames is caught."""
    for i in range(FRAMES):
        frame = np.full((*SIZE, 3), 90, np.uint8)
        cv2.rectangle(frame, (10 + 12 * i, 30), (40 + 12 * i, 60), (255, 255, 255), -1)
        yield frame


def test_webm_is_vp8_and_decodes_frame_by_frame(tmp_path):
    video = write_video(tmp_path / "clip.webm", frames(), fps=FPS)
    assert video.path == tmp_path / "clip.webm" and video.frames == FRAMES
    assert (video.codec.fourcc, video.codec.browser_playable) == ("VP80", True)
    with open(video.path, "rb") as f:
        assert f.read(4) == b"\x1a\x45\xdf\xa3"  # EBML header: a Matroska / WebM container
    cap = cv2.VideoCapture(str(video.path))
    decoded = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        decoded.append(frame)
    cap.release()
    assert len(decoded) == FRAMES and decoded[0].shape == (*SIZE, 3)
    for i, (got, expected) in enumerate(zip(decoded, frames())):  # lossy, but each frame is the right one
        assert np.abs(got.astype(int) - expected).mean() < 8, i
    assert not list(tmp_path.glob(".tmp_*"))


def test_a_format_that_cannot_be_written_falls_back_with_one_notice(tmp_path, monkeypatch, caplog):
    """An OpenCV build without a VP8 encoder: the next format is written and one warning names it."""
    broken = dict(visualize.CODECS, **{".webm": (Codec("ZZZZ", "no such codec", True),)})
    monkeypatch.setattr(visualize, "CODECS", broken)
    with caplog.at_level(logging.WARNING, logger="lib.quickstart.visualize"):
        video = write_video(tmp_path / "clip.webm", frames(), fps=FPS)
    assert video.path.suffix in (".mp4", ".avi") and not (tmp_path / "clip.webm").exists()
    check_video(video.path, FRAMES)
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and "clip.webm" in notices[0] and str(video.path) in notices[0]
    assert ("do not play" in notices[0]) == (not video.codec.browser_playable)


def test_no_codec_at_all_is_one_error_naming_the_file(tmp_path, monkeypatch):
    nothing = {ext: (Codec("ZZZZ", "no such codec", False),) for ext in visualize.CODECS}
    monkeypatch.setattr(visualize, "CODECS", nothing)
    with pytest.raises(VideoWriteError, match=r"cannot open a video writer for .*clip.webm.*tried"):
        write_video(tmp_path / "clip.webm", frames(), fps=FPS)
    assert not list(tmp_path.iterdir())


PAGE = """<!doctype html><html><body>
<video id="clip" src="{src}" muted preload="auto"></video><pre id="state">pending</pre>
<script>
const video = document.getElementById("clip"), state = document.getElementById("state");
function report(event) {{
  state.textContent = JSON.stringify({{event: event, readyState: video.readyState, duration: video.duration,
    width: video.videoWidth, height: video.videoHeight, error: video.error ? video.error.code : null}});
}}
video.addEventListener("loadeddata", () => report("loadeddata"));
video.addEventListener("error", () => report("error"));
</script></body></html>"""


def browser_state(tmp_path, video_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE.format(src=video_path.name), encoding="utf-8")
    dom = chromium_dump_dom(page)
    text = dom.split('<pre id="state">', 1)[1].split("</pre>", 1)[0]
    assert text != "pending", "the browser reported neither data nor an error"
    return json.loads(text.replace("&quot;", '"'))


@pytest.mark.slow
def test_chromium_plays_the_webm(tmp_path):
    """A real browser decodes the file: data for the current frame, its duration and its size."""
    video = write_video(tmp_path / "clip.webm", frames(), fps=FPS)
    state = browser_state(tmp_path, video.path)
    assert state["event"] == "loadeddata" and state["error"] is None
    assert state["readyState"] >= 2  # HAVE_CURRENT_DATA: a frame is decoded
    assert state["duration"] == pytest.approx(FRAMES / FPS, abs=0.25)
    assert (state["height"], state["width"]) == SIZE


@pytest.mark.slow
def test_chromium_refuses_mp4v_which_is_why_webm_is_the_default(tmp_path):
    """The reason for the change: the old default (mp4v in .mp4) is not playable in the browser."""
    path = tmp_path / "old.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE[::-1])
    for frame in frames():
        writer.write(frame)
    writer.release()
    state = browser_state(tmp_path, path)
    assert state["event"] == "error" and state["readyState"] == 0
