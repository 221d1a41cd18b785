"""End-to-end training through ``lib/train/run_training.py`` on synthetic datasets, on CPU.

Stage 1 -> stage 2 hand-off, two-process gloo runs (torch.distributed.launch, torchrun through
``tracking/train.py`` on one machine and as two "machines"), resume after an interruption, failures
with a non-zero exit status and one clear line. Every run uses the tiny experiments and the real data
pipeline on tiny synthetic datasets.
"""
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib.train import train_script
from lib.train.admin.settings import RunSettings
from lib.utils.checkpoint import read_checkpoint

from tests.script_loading import load_script

REPO = Path(__file__).resolve().parents[2]
RUN_TRAINING = REPO / "lib" / "train" / "run_training.py"
DATASETS = ["GOT10K_vottrain", "LasHeR_train", "DepthTrack_train", "VisEvent"]  # as in cstrack_s1_tiny.yaml
TIMEOUT = 300


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    """Environment with CSTRACK_*_DIR pointing at synthetic datasets; one intra-op thread per process."""
    from tests import synthetic_data as synthetic
    overrides = synthetic.write_all_training_datasets(tmp_path_factory.mktemp("data"), lmdb=False, names=DATASETS)
    return dict(os.environ, OMP_NUM_THREADS="1", **overrides)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def train(env, save_dir, *args, script="cstrack_s1", config="cstrack_s1_tiny", launcher=()):
    """Run run_training.py (optionally under a launcher); returns the CompletedProcess."""
    command = [sys.executable, *launcher, str(RUN_TRAINING), "--script", script, "--config", config,
               "--save_dir", str(save_dir), "--device", "cpu", *args]
    return subprocess.run(command, env=env, cwd=str(REPO), capture_output=True, text=True, timeout=TIMEOUT)


def ckpt(save_dir, stage, epoch):
    name = f"CSTRACK_S{stage[-1]}_ep{epoch:04d}.pth.tar"
    return Path(save_dir) / "checkpoints" / "train" / stage / f"{stage}_tiny" / name


def assert_ok(result):
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def stage1_run(data_env, tmp_path_factory):
    """Two stage-1 epochs in one process (legacy reference arguments given too)."""
    save_dir = tmp_path_factory.mktemp("s1")
    result = train(data_env, save_dir, "--seed", "3", "--script_prv", "None", "--use_wandb", "0")
    assert_ok(result)
    return save_dir, result


@pytest.mark.slow
def test_stage1_single_process_writes_checkpoints_log_and_tensorboard(stage1_run):
    save_dir, result = stage1_run
    assert "ignoring legacy reference arguments" in result.stderr
    for epoch in (1, 2):
        state = read_checkpoint(str(ckpt(save_dir, "cstrack_s1", epoch)))  # weights_only=True
        assert state["epoch"] == epoch and state["net_type"] == "CSTRACK_S1" and state["seed"] == 3
    assert (save_dir / "checkpoints" / "train" / "cstrack_s1" / "cstrack_s1_tiny" / "config.yaml").is_file()
    log = (save_dir / "logs" / "cstrack_s1-cstrack_s1_tiny.log").read_text()
    assert "[train: 2, 4 / 4]" in log and "finished training: 2 epochs" in log
    assert list((save_dir / "tensorboard" / "train" / "cstrack_s1" / "cstrack_s1_tiny").glob("events.out.tfevents*"))


@pytest.mark.slow
def test_stage2_starts_from_the_stage1_checkpoint_and_trains_only_the_new_parts(data_env, stage1_run, tmp_path):
    s1_path = ckpt(stage1_run[0], "cstrack_s1", 2)
    result = train(data_env, tmp_path, "--pretrained", str(s1_path), "--cfg-options", "TRAIN.EPOCH=1",
                   script="cstrack_s2", config="cstrack_s2_tiny")
    assert_ok(result)
    assert f"warm start of CSTRACK_S2 from {s1_path}" in result.stderr
    s1 = read_checkpoint(str(s1_path))["net"]
    s2 = read_checkpoint(str(ckpt(tmp_path, "cstrack_s2", 1)))
    assert s2["net_type"] == "CSTRACK_S2" and s2["config"]["MODEL"]["PRETRAINED_PATH"] == str(s1_path)
    for key, value in s2["net"].items():
        if key == "backbone.cls_token":  # quirk Q1 on the warm start: the stage-1 pos_embed[:, 0]
            assert torch.equal(value, s1["backbone.pos_embed"][:, 0:1])
        elif key.startswith(("backbone.", "backbone_rgb_det_fusion.")) and value.is_floating_point():
            assert torch.equal(value, s1[key]), f"frozen {key} changed"
    assert not torch.equal(s2["net"]["box_head.conv5_ctr.weight"], s1["box_head.conv5_ctr.weight"])


@pytest.mark.slow
def test_stage2_with_a_wrong_stage1_path_fails(data_env, tmp_path):
    result = train(data_env, tmp_path, "--pretrained", str(tmp_path / "nope" / "CSTRACK_S1_ep0150.pth.tar"),
                   script="cstrack_s2", config="cstrack_s2_tiny")
    assert result.returncode != 0
    assert result.returncode == 2 and "cstrack_s1 checkpoint not found" in result.stderr
    assert not list(tmp_path.glob("checkpoints/**/*.pth.tar"))


def test_stage2_without_a_stage1_checkpoint_fails(data_env, tmp_path, monkeypatch):
    for key, value in data_env.items():
        if key.startswith("CSTRACK_"):
            monkeypatch.setenv(key, value)
    settings = RunSettings(script="cstrack_s2", config="cstrack_s2_tiny", save_dir=str(tmp_path), device="cpu")
    with pytest.raises(ValueError, match="CSTRACK_S2 starts from a cstrack_s1 checkpoint: set MODEL.PRETRAINED_PATH"):
        train_script.run(settings)


@pytest.mark.slow
def test_interrupted_and_resumed_run_equals_uninterrupted_run(data_env, stage1_run, tmp_path):
    # Same seed as stage1_run; the first call stops after epoch 1 as if killed, the second resumes.
    assert_ok(train(data_env, tmp_path, "--seed", "3", "--cfg-options", "TRAIN.EPOCH=1"))
    assert not ckpt(tmp_path, "cstrack_s1", 2).exists()
    result = train(data_env, tmp_path, "--seed", "3")
    assert_ok(result)
    assert "resumed from" in result.stderr
    straight = read_checkpoint(str(ckpt(stage1_run[0], "cstrack_s1", 2)))
    resumed = read_checkpoint(str(ckpt(tmp_path, "cstrack_s1", 2)))
    for key, value in straight["net"].items():
        assert torch.allclose(value.double(), resumed["net"][key].double(), rtol=0, atol=1e-7), key
    assert straight["lr_scheduler"] == resumed["lr_scheduler"]


@pytest.mark.slow
def test_diverging_run_exits_non_zero(data_env, tmp_path):
    result = train(data_env, tmp_path, "--cfg-options", "TRAIN.LR=1.0e+30", "TRAIN.ENCODER_MULTIPLIER=1.0")
    assert result.returncode != 0
    assert "training failed" in result.stderr and "Finished training" not in result.stderr
    assert not list(tmp_path.glob("checkpoints/**/*.pth.tar"))


@pytest.mark.slow
def test_two_processes_with_torch_distributed_launch(data_env, tmp_path):
    result = train(data_env, tmp_path, "--cfg-options", "TRAIN.EPOCH=1",
                   launcher=("-m", "torch.distributed.launch", "--nproc_per_node", "2", "--master_port", free_port()))
    assert_ok(result)
    assert "2 process(es)" in result.stderr and "[rank 1]" not in (tmp_path / "logs" /
                                                                    "cstrack_s1-cstrack_s1_tiny.log").read_text()
    # 8 samples per epoch over 2 processes of batch 2: 2 iterations each.
    assert "[train: 1, 2 / 2]" in result.stderr
    assert read_checkpoint(str(ckpt(tmp_path, "cstrack_s1", 1)))["world_size"] == 2


@pytest.mark.slow
def test_two_processes_with_torchrun_through_tracking_train(data_env, tmp_path):
    command = [sys.executable, str(REPO / "tracking" / "train.py"), "--script", "cstrack_s1", "--config",
               "cstrack_s1_tiny", "--save_dir", str(tmp_path), "--mode", "multiple", "--nproc_per_node", "2",
               "--device", "cpu", "--cfg-options", "TRAIN.EPOCH=1"]
    result = subprocess.run(command, env=data_env, cwd=str(REPO), capture_output=True, text=True, timeout=TIMEOUT)
    assert_ok(result)
    assert "torch.distributed.run" in result.stdout
    assert ckpt(tmp_path, "cstrack_s1", 1).is_file()


@pytest.mark.slow
def test_two_machines_with_the_authors_multi_node_arguments(data_env, tmp_path):
    """Two launches of tracking/train.py --mode multi_node (node ranks 0 and 1 on 127.0.0.1) train one job."""
    port = free_port()
    wrapper = str(REPO / "tracking" / "train.py")
    nodes = []
    for rank in (0, 1):
        command = [sys.executable, wrapper, "--script", "cstrack_s1", "--config", "cstrack_s1_tiny", "--save_dir",
                   str(tmp_path), "--mode", "multi_node", "--nnodes", "2", "--rank", str(rank), "--ip", "127.0.0.1",
                   "--port", port, "--nproc_per_node", "1", "--device", "cpu", "--cfg-options", "TRAIN.EPOCH=1"]
        nodes.append(subprocess.Popen(command, env=data_env, cwd=str(REPO), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [node.communicate(timeout=TIMEOUT) for node in nodes]
    for node, (out, err) in zip(nodes, outputs):
        assert node.returncode == 0, err[-3000:]
    assert "--nnodes 2 --node_rank 0 --master_addr 127.0.0.1 --master_port " + port in outputs[0][0]
    assert "--node_rank 1" in outputs[1][0]
    # One job of 2 processes: 8 samples per epoch, batch 2 each -> 2 iterations; rank 0 writes one checkpoint.
    assert "2 process(es)" in outputs[0][1] and "[train: 1, 2 / 2]" in outputs[0][1]
    checkpoints = list(tmp_path.glob("checkpoints/**/*.pth.tar"))
    assert checkpoints == [ckpt(tmp_path, "cstrack_s1", 1)]
    assert read_checkpoint(str(checkpoints[0]))["world_size"] == 2


@pytest.mark.slow
def test_machines_that_see_different_checkpoints_refuse_to_resume(data_env, stage1_run, tmp_path):
    """Two "machines" whose --save_dir differ: only rank 0 has a checkpoint, so nobody trains."""
    first = tmp_path / "machine0"
    ckpt(first, "cstrack_s1", 1).parent.mkdir(parents=True)
    shutil.copy(ckpt(stage1_run[0], "cstrack_s1", 1), ckpt(first, "cstrack_s1", 1))
    port = free_port()
    nodes = []
    for rank, save_dir in ((0, first), (1, tmp_path / "machine1")):
        command = [sys.executable, str(REPO / "tracking" / "train.py"), "--script", "cstrack_s1", "--config",
                   "cstrack_s1_tiny", "--save_dir", str(save_dir), "--mode", "multi_node", "--nnodes", "2", "--rank",
                   str(rank), "--port", port, "--nproc_per_node", "1", "--device", "cpu", "--seed", "3"]
        nodes.append(subprocess.Popen(command, env=data_env, cwd=str(REPO), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [node.communicate(timeout=TIMEOUT) for node in nodes]
    for node, (_, err) in zip(nodes, outputs):
        assert node.returncode != 0
        assert "resume from different epochs (by rank: [1, 0]" in err, err[-3000:]
    assert not ckpt(first, "cstrack_s1", 2).exists() and not list((tmp_path / "machine1").glob("checkpoints/**/*.tar"))


@pytest.mark.slow
def test_an_unwritable_save_dir_is_one_clear_line(data_env, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = train(data_env, blocker / "out")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"training failed: cannot write to --save_dir {blocker / 'out'}: Not a directory")
    if os.geteuid() != 0:  # root writes anywhere
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o555)
        result = train(data_env, readonly / "out")
        assert result.returncode == 2 and "Permission denied" in result.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_missing_data_is_reported_last_and_short_with_the_details_in_the_log(data_env, tmp_path):
    env = {k: v for k, v in data_env.items() if k != "CSTRACK_LASHER_DIR"}
    env["CSTRACK_LASHER_DIR"] = str(tmp_path / "no_lasher_here")
    result = train(env, tmp_path)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    log_file = tmp_path / "logs" / "cstrack_s1-cstrack_s1_tiny.log"
    assert "training failed: setting 'lasher_dir'" in last and "no_lasher_here" in last and str(log_file) in last
    assert len(result.stderr.strip().splitlines()) < 10, result.stderr  # no config dump, no traceback
    assert "Traceback" not in result.stderr and "DATASETS_RATIO" not in result.stderr
    log = log_file.read_text()
    assert "DATASETS_RATIO" in log and "Traceback" in log  # both kept in the log file


@pytest.mark.slow
def test_run_training_by_path_imports_its_own_checkout(tmp_path):
    """A second checkout's run_training.py runs that checkout's lib, not the installed (editable) one."""
    copy = tmp_path / "other_checkout"
    shutil.copytree(REPO / "lib", copy / "lib", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    marker = "lib imported from the other checkout"
    with open(copy / "lib" / "__init__.py", "a") as f:
        f.write(f"import sys\nsys.stderr.write({marker!r} + '\\n')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, str(copy / "lib" / "train" / "run_training.py"), "--help"], env=env,
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0 and marker in result.stderr
    # This checkout's own script does not see the copy's lib.
    result = subprocess.run([sys.executable, str(RUN_TRAINING), "--help"], env=env, cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0 and marker not in result.stderr


# ------------------------------------------------------------------------------------- command line
def test_tracking_train_builds_launch_commands():
    wrapper = load_script("tracking_train", REPO / "tracking" / "train.py")
    args, rest = wrapper.build_parser().parse_known_args(
        ["--script", "cstrack_s2", "--mode", "single", "--pretrained", "x.pth.tar"])
    command = wrapper.build_command(args, rest)
    assert command[:2] == [sys.executable, str(RUN_TRAINING)]
    assert command[2:] == ["--script", "cstrack_s2", "--config", "cstrack_s2", "--save_dir", "./output",
                           "--pretrained", "x.pth.tar"]
    args, rest = wrapper.build_parser().parse_known_args(
        ["--script", "cstrack_s1", "--config", "cstrack_s1", "--mode", "multiple", "--nproc_per_node", "4"])
    command = wrapper.build_command(args, rest)
    assert command[:6] == [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "4", "--standalone"]
    assert "CUDA_VISIBLE_DEVICES" not in " ".join(command)


@pytest.mark.parametrize("flag", ["--local_rank=1", "--local-rank=1"])
def test_local_rank_argument_forms(flag, monkeypatch):
    run_training = load_script("run_training", RUN_TRAINING)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    args = run_training.build_parser().parse_args(["--script", "cstrack_s1", "--config", "cstrack_s1", flag])
    settings = run_training.settings_from_args(args)
    assert (settings.rank, settings.local_rank, settings.world_size) == (1, 1, 2)
    assert not settings.is_main and settings.distributed


def test_single_process_defaults_and_boolean_flags(monkeypatch):
    run_training = load_script("run_training", RUN_TRAINING)
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    parser = run_training.build_parser()
    settings = run_training.settings_from_args(parser.parse_args(["--script", "cstrack_s1", "--config", "c"]))
    assert (settings.rank, settings.world_size, settings.resume, settings.cudnn_benchmark) == (0, 1, "auto", False)
    assert settings.checkpoint_dir.endswith(os.path.join("output", "checkpoints", "train", "cstrack_s1", "c"))
    # The reference's type=bool read "False" as True (T2 in docs/parity.md).
    args = parser.parse_args(["--script", "s", "--config", "c", "--cudnn_benchmark", "False"])
    assert args.cudnn_benchmark is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--script", "s", "--config", "c", "--cudnn_benchmark", "maybe"])


def test_tracking_train_multi_node_command_and_its_errors():
    wrapper = load_script("tracking_train", REPO / "tracking" / "train.py")
    parser = wrapper.build_parser()
    args, rest = parser.parse_known_args(["--script", "cstrack_s1", "--mode", "multi_node", "--world-size", "2",
                                          "--rank", "1", "--ip", "10.0.0.1", "--port", "29400", "--nproc_per_node",
                                          "4", "--workers", "2"])
    command = wrapper.build_command(args, rest)
    assert command[:13] == [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "4", "--nnodes", "2",
                            "--node_rank", "1", "--master_addr", "10.0.0.1", "--master_port", "29400"]
    assert command[13] == str(RUN_TRAINING) and command[-2:] == ["--workers", "2"]
    for bad, message in ((["--nnodes", "2"], "needs --nnodes N and --rank R"),
                         (["--nnodes", "2", "--rank", "2"], r"--rank 2 is not in 0..1")):
        args, rest = parser.parse_known_args(["--script", "cstrack_s1", "--mode", "multi_node", *bad])
        with pytest.raises(ValueError, match=message):
            wrapper.build_command(args, rest)
