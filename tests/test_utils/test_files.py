"""The one atomic writer: whole files or none, with the mode a plain open() would give."""
import os
import stat

import pytest

from lib.utils.files import atomic_write, atomic_write_text


def test_written_files_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "sub" / "result.txt", "1 2 3 4\n")
    finally:
        os.umask(previous)
    assert path.read_text() == "1 2 3 4\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "result.txt"
    path.write_text("old\n")

    def failing(tmp):
        with open(tmp, "w") as handle:
            handle.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, failing)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["result.txt"]


def test_markdown_sections_are_replaced_in_place_or_appended(tmp_path):
    from lib.utils.machine import write_markdown_section

    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nintro\n")
    write_markdown_section(path, "speed", "## Speed\n\nold")
    write_markdown_section(path, "faults", "## Faults")
    write_markdown_section(path, "speed", "## Speed\n\nnew")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n\n<!-- speed:start -->\n## Speed\n\nnew\n<!-- speed:end -->")
    assert text.count("<!-- speed:start -->") == 1 and "old" not in text and text.index("Faults") > text.index("new")
