"""Running an entry point in-process: output to the step log, echo chosen by logger name, state restored."""
import logging
import os
import sys

import pytest

from lib.quickstart.entry_points import display_command, run_entry_point
from lib.quickstart.errors import QuickstartError

SCRIPT = '''
import logging, os, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("lib.fake.progress").info("[step 1/2] working in %s", os.environ["QS_TEST_DIR"])
logging.getLogger("lib.fake.other").info("detail nobody needs on the terminal")
logging.getLogger("lib.fake.other").info("a dump", extra={"destination": "file"})
logging.getLogger("lib.fake.other").warning("something to look at")
print("printed by the script, args", sys.argv[1:])
sys.exit(int(sys.argv[1]))
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "entry.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def run(script, tmp_path, status, verbose=False):
    lines = []
    run_entry_point(script, [str(status)], tmp_path / "logs" / "step.log", lines.append, ["lib.fake.progress"],
                    env={"QS_TEST_DIR": str(tmp_path)}, verbose=verbose)
    return lines


def test_echo_is_chosen_by_logger_and_level_and_the_log_keeps_everything(script, tmp_path):
    lines = run(script, tmp_path, 0)
    assert lines[0].strip().startswith(f"$ QS_TEST_DIR={tmp_path} python {script} 0")
    assert [line.strip() for line in lines[1:]] == [f"[step 1/2] working in {tmp_path}",
                                                    "WARNING: something to look at"]
    log = (tmp_path / "logs" / "step.log").read_text()
    for text in ("INFO lib.fake.progress: [step 1/2]", "detail nobody needs", "a dump", "something to look at",
                 "printed by the script, args ['0']"):
        assert text in log
    assert "QS_TEST_DIR" not in os.environ


def test_verbose_echoes_every_record_but_file_only_ones(script, tmp_path):
    lines = [line.strip() for line in run(script, tmp_path, 0, verbose=True)]
    assert "detail nobody needs on the terminal" in lines and "a dump" not in lines


def test_a_failing_script_is_one_error_with_the_end_of_its_log(script, tmp_path):
    root = logging.getLogger()
    handlers, level, argv = list(root.handlers), root.level, list(sys.argv)
    with pytest.raises(QuickstartError) as err:
        run(script, tmp_path, 3)
    message = str(err.value)
    assert "exited with status 3" in message and "something to look at" in message
    assert str(tmp_path / "logs" / "step.log") in message
    assert root.handlers == handlers and root.level == level and sys.argv == argv  # nothing leaks out


def test_a_script_that_raises_is_reported_with_its_traceback_in_the_log(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("raise ValueError('bad value in the config')\n")
    with pytest.raises(QuickstartError, match="raised ValueError: bad value in the config"):
        run_entry_point(script, [], tmp_path / "boom.log", lambda line: None, [])
    assert "Traceback" in (tmp_path / "boom.log").read_text()


def test_display_command_quotes_and_shortens_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a dir").mkdir()
    command = display_command(tmp_path / "s.py", ["--x", str(tmp_path / "a dir"), "--n", "2"],
                              env={"ROOT": str(tmp_path / "a dir")})
    assert command == "ROOT='a dir' python s.py --x 'a dir' --n 2"
