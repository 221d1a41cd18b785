"""Settings: generated local.py files, safe parsing, env-var overrides, the listing, error messages."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import environment
from lib.config.environment import EnvSettings, RETIRED_SETTINGS, SettingsError, env_settings, read_local_file
from lib.config.local_generator import write_local_files
from lib.config.settings_report import report_lines

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local_files(tmp_path):
    """Generated train / test settings files in a temp dir (never the repository's own)."""
    train, test = tmp_path / "train_local.py", tmp_path / "test_local.py"
    write_local_files(tmp_path / "data", tmp_path / "out", train_local=train, test_local=test)
    return train, test


def test_generated_files_round_trip(local_files, tmp_path):
    train, test = local_files
    env = env_settings(train, test, environ={})
    data = (tmp_path / "data").as_posix()
    assert env.lasot_dir == f"{data}/lasot"
    assert env.got10k_dir == f"{data}/got10k/train"
    assert env.lasher_dir == f"{data}/lasher/trainingset"
    assert env.depthtrack_dir == f"{data}/depthtrack/train"
    # T6 (docs/parity.md) fixed: the reference wrote <data>/trackingnet here
    assert env.vasttrack_dir == f"{data}/VastTrack/unisot_train_final_backup"
    assert env.save_dir == (tmp_path / "out").as_posix()
    assert env.checkpoints_path == (tmp_path / "out" / "checkpoints").as_posix()
    assert env.lasher_test_dir == f"{data}/lasher/testingset"
    assert "line" in env.source_of("lasot_dir") and "train_local.py" in env.source_of("lasot_dir")
    assert all(getattr(env, name) for name in EnvSettings.path_fields())


def test_paths_are_written_as_python_literals(tmp_path):
    """Quotes and backslashes in a path survive (repr), so Windows paths never break the file."""
    odd = tmp_path / "we'ird \\ dir"
    train, test = tmp_path / "a.py", tmp_path / "b.py"
    write_local_files(odd / "data", odd, train_local=train, test_local=test)
    env = env_settings(train, test, environ={})
    assert env.save_dir == odd.as_posix()
    assert "\\\\" in train.read_text()  # escaped by repr


def test_refuses_to_overwrite_without_force(local_files, tmp_path):
    train, test = local_files
    train.write_text("lasot_dir = '/my/edited/path'\n")
    with pytest.raises(FileExistsError, match="--force"):
        write_local_files(tmp_path, tmp_path, train_local=train, test_local=test)
    assert train.read_text() == "lasot_dir = '/my/edited/path'\n"
    write_local_files(tmp_path, tmp_path, force=True, train_local=train, test_local=test)
    assert "/my/edited/path" not in train.read_text()


def test_generator_script_refuses_overwrite(tmp_path):
    script = REPO_ROOT / "tracking" / "create_default_local_file.py"
    args = [sys.executable, str(script), "--data_dir", "./data", "--save_dir", ".",
            "--train_file", str(tmp_path / "t.py"), "--test_file", str(tmp_path / "e.py")]
    first = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert read_local_file(tmp_path / "t.py")["lasot_dir"][0] == (tmp_path / "data" / "lasot").as_posix()
    second = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 1
    assert "--force" in second.stderr


def test_env_var_overrides_file(local_files, tmp_path):
    train, test = local_files
    env = env_settings(train, test, environ={"CSTRACK_LASOT_DIR": str(tmp_path / "elsewhere"),
                                             "CSTRACK_LASHER_TEST_DIR": str(tmp_path / "lt")})
    assert env.lasot_dir == str(tmp_path / "elsewhere")
    assert env.lasher_test_dir == str(tmp_path / "lt")
    assert env.source_of("lasot_dir") == "environment variable CSTRACK_LASOT_DIR"
    assert env.got10k_dir.endswith("got10k/train")  # untouched fields keep the file value


def test_missing_files_give_empty_settings(tmp_path):
    env = env_settings(tmp_path / "none.py", tmp_path / "none2.py", environ={})
    assert env.lasot_dir == ""
    with pytest.raises(SettingsError) as err:
        env.require_dir("lasot_dir", "<lasot_dir>/<class>/<class>-<idx>/img")
    message = str(err.value)
    assert "lasot_dir" in message and "not set" in message and "CSTRACK_LASOT_DIR" in message
    assert "create_default_local_file.py" in message and "<class>-<idx>" in message


def test_missing_root_names_setting_path_and_layout(tmp_path):
    missing = tmp_path / "no" / "lasher"
    env = env_settings(tmp_path / "none.py", tmp_path / "none2.py", environ={"CSTRACK_LASHER_DIR": str(missing)})
    with pytest.raises(SettingsError) as err:
        env.require_dir("lasher_dir", "<seq>/visible/*.jpg")
    message = str(err.value)
    assert "lasher_dir" in message and str(missing) in message and "<seq>/visible/*.jpg" in message
    assert "CSTRACK_LASHER_DIR" in message
    (tmp_path / "file").write_text("x")
    env.lasher_dir = str(tmp_path / "file")
    with pytest.raises(SettingsError, match="not a directory"):
        env.require_dir("lasher_dir")
    assert env.check_path("lasher_dir") == tmp_path / "file"


def test_broken_file_is_reported_and_never_overwritten(tmp_path):
    """A Windows path with backslash escapes is a syntax error: file and line named, file kept (T7, docs/parity.md)."""
    train = tmp_path / "local.py"
    text = "save_dir = '/ok'\nlasot_dir = 'C:\\Users\\me\\lasot'\n"
    train.write_text(text)
    with pytest.raises(SettingsError) as err:
        env_settings(train, tmp_path / "none.py", environ={})
    assert str(train) in str(err.value) and ":2" in str(err.value) and "forward slashes" in str(err.value)
    assert train.read_text() == text


def test_an_expression_it_does_not_understand_is_one_line_naming_file_line_and_forms(tmp_path):
    train = tmp_path / "local.py"
    train.write_text("import os\nlasot_dir = os.environ['HOME'] + '/lasot'\n")
    with pytest.raises(SettingsError) as err:
        env_settings(train, tmp_path / "none.py", environ={})
    message = str(err.value)
    assert message.startswith(f"{train}:2: lasot_dir = os.environ['HOME'] + '/lasot': not understood")
    assert "os.path.expanduser(...)" in message and "\n" not in message and "Name(" not in message


def test_pytracking_style_expanduser_and_join_are_understood(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    train = tmp_path / "local.py"
    train.write_text("import os\n"
                     "class EnvironmentSettings:\n"
                     "    def __init__(self):\n"
                     "        self.workspace_dir = os.path.expanduser('~/work')\n"
                     "        self.lasot_dir = os.path.join(self.workspace_dir, 'data', 'lasot')\n"
                     "        self.got10k_dir = f'{self.workspace_dir}/got10k'\n")
    env = env_settings(train, tmp_path / "none.py", environ={})
    work = tmp_path / "home" / "work"
    assert env.lasot_dir == str(work / "data" / "lasot")
    assert env.got10k_dir == f"{work}/got10k"
    assert env.retired["workspace_dir"][0] == str(work)


def test_reference_style_files_are_understood(tmp_path):
    """pytracking-style class / function files with `self.x = ...` and `settings.x = ...` still work."""
    train = tmp_path / "train.py"
    train.write_text(
        "class EnvironmentSettings:\n"
        "    def __init__(self):\n"
        "        self.workspace_dir = '/ws'\n"
        "        self.tensorboard_dir = self.workspace_dir + '/tensorboard/'\n"
        "        self.lasot_dir = '/data/lasot'\n")
    test = tmp_path / "test.py"
    test.write_text(
        "from lib.test.evaluation.environment import EnvSettings\n"
        "def local_env_settings():\n"
        "    settings = EnvSettings()\n"
        "    settings.lasher_dir = '/data/LasHeR/testingset'\n"
        "    settings.ckpt_name = 'CSTRACK_S2_ep0050.pth.tar'\n"
        "    return settings\n")
    env = env_settings(train, test, environ={})
    assert env.retired["tensorboard_dir"][0] == "/ws/tensorboard/"  # read, kept apart: nothing uses it
    assert env.lasot_dir == "/data/lasot"
    assert env.lasher_test_dir == "/data/LasHeR/testingset"  # the test file's lasher_dir is the test root
    assert env.lasher_dir == ""
    assert env.extra["ckpt_name"][0] == "CSTRACK_S2_ep0050.pth.tar"


def test_relative_paths_in_files_resolve_against_repo(tmp_path):
    train = tmp_path / "train.py"
    train.write_text("lasot_dir = 'data/lasot'\n")
    env = env_settings(train, tmp_path / "none.py", environ={})
    assert Path(env.lasot_dir) == REPO_ROOT / "data" / "lasot"


def test_report_lists_every_setting(tmp_path):
    env = env_settings(tmp_path / "none.py", tmp_path / "none2.py", environ={"CSTRACK_SAVE_DIR": str(tmp_path)})
    rows = {name: (value, exists) for name, value, exists, _ in env.report()}
    assert set(rows) == set(EnvSettings.path_fields())
    assert rows["save_dir"] == (str(tmp_path), True)
    assert rows["lasot_dir"] == ("", False)


def test_every_setting_is_read_somewhere_in_the_framework():
    """A setting nobody reads would be listed as MISSING for nothing: each name occurs outside lib/config."""
    files = [p for folder in ("lib", "tracking") for p in (REPO_ROOT / folder).rglob("*.py")]
    sources = [p.read_text(encoding="utf-8") for p in files if "config" not in p.relative_to(REPO_ROOT).parts[:2]]
    unread = [name for name in EnvSettings.path_fields() if not any(f"'{name}'" in text or f'"{name}"' in text
                                                                   or f".{name}" in text for text in sources)]
    assert unread == []
    assert not set(RETIRED_SETTINGS) & set(EnvSettings.path_fields())


def test_generated_file_comments_each_setting(local_files):
    train, _ = local_files
    lines = train.read_text().splitlines()
    for name in environment.TRAIN_FIELDS:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
        assert lines[index - 1] == f"# {EnvSettings.describe(name)['purpose']}"
    ast.parse(train.read_text())


def test_listing_without_settings_files_says_how_to_create_them(tmp_path, monkeypatch):
    monkeypatch.setattr(environment, "TRAIN_LOCAL_FILE", tmp_path / "none.py")
    monkeypatch.setattr(environment, "TEST_LOCAL_FILE", tmp_path / "none2.py")
    lines = report_lines(env_settings(environ={}), explain=True)
    assert lines[0].startswith("No settings file yet")
    assert lines[1].strip() == "python tracking/create_default_local_file.py --data_dir ./data --save_dir ."
    assert sum("unset" in line for line in lines) == len(EnvSettings.path_fields())
    assert any(EnvSettings.describe("lasher_dir")["purpose"] in line for line in lines)


def test_listing_names_retired_settings_and_what_is_used_instead(tmp_path):
    train = tmp_path / "train.py"
    train.write_text("tensorboard_dir = '/tb'\nlasot_dir = '/data/lasot'\n")
    lines = report_lines(env_settings(train, tmp_path / "none.py", environ={}))
    retired = [line for line in lines if line.strip().startswith("tensorboard_dir")]
    assert len(retired) == 1 and "'/tb'" in retired[0] and "line 1" in retired[0] and "--save_dir" in retired[0]


def test_cli_reports_a_bad_settings_file_in_one_line(tmp_path):
    """`python -m lib.config.environment` with an unreadable local.py: exit 2, one error line, no traceback."""
    train = tmp_path / "train.py"
    train.write_text("lasot_dir = os.getcwd()\n")
    code = ("import sys; from lib.config import environment as e, settings_report as r; "
            "e.TRAIN_LOCAL_FILE = sys.argv[1]; sys.exit(r.main([]))")
    result = subprocess.run([sys.executable, "-c", code, str(train)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {train}:1: lasot_dir = os.getcwd(): not understood")
