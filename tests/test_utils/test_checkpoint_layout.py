"""Where checkpoints are looked up: the trainer's names, the runners' and the VOT entry point's rules."""
import pytest

from lib.utils.checkpoint_layout import (checkpoint_name, epoch_label, latest_checkpoint, resolve_test_checkpoint,
                                         run_checkpoint_dir)


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_names_and_the_latest_epoch(tmp_path):
    assert checkpoint_name("CSTRACK_S2", 50) == "CSTRACK_S2_ep0050.pth.tar"
    assert epoch_label("/x/CSTRACK_S2_ep0050.pth.tar") == "ep0050"
    _touch(tmp_path, "CSTRACK_S2_ep0009.pth.tar", "CSTRACK_S2_ep0010.pth.tar", "CSTRACK_S1_ep0150.pth.tar", "x.txt")
    assert latest_checkpoint(str(tmp_path), "CSTRACK_S2").endswith("ep0010.pth.tar")
    assert latest_checkpoint(str(tmp_path)).endswith("CSTRACK_S1_ep0150.pth.tar")
    assert latest_checkpoint(str(tmp_path / "none")) is None


def test_the_authors_flow_takes_the_checkpoint_from_the_checkpoints_path_setting(tmp_path, monkeypatch):
    """The authors' README: set checkpoints_path to the folder holding the weights, run the script bare."""
    monkeypatch.delenv("CSTRACK_NETWORK_PATH", raising=False)
    released = tmp_path / "released"
    _touch(released, "CSTRACK_S2_ep0050.pth.tar", "CSTRACK_S1_ep0150.pth.tar")
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(released))
    assert resolve_test_checkpoint("cstrack_s2", "cstrack_s2").endswith("CSTRACK_S2_ep0050.pth.tar")
    assert resolve_test_checkpoint("cstrack_s1", "cstrack_s1").endswith("CSTRACK_S1_ep0150.pth.tar")
    # a training tree under the setting: train/<script>/<config>/
    trained = tmp_path / "checkpoints"
    _touch(tmp_path / run_checkpoint_dir("checkpoints", "cstrack_s2", "mine"), "CSTRACK_S2_ep0003.pth.tar",
           "CSTRACK_S2_ep0004.pth.tar")
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(trained))
    assert resolve_test_checkpoint("cstrack_s2", "mine").endswith("CSTRACK_S2_ep0004.pth.tar")
    # the setting names a file
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(released / "CSTRACK_S2_ep0050.pth.tar"))
    assert resolve_test_checkpoint("cstrack_s2", "cstrack_s2") == str(released / "CSTRACK_S2_ep0050.pth.tar")
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="pass --checkpoint FILE or --epoch N"):
        resolve_test_checkpoint("cstrack_s2", "cstrack_s2")
