"""tracking/benchmark_speed.py runs both trees side by side and writes its table between its markers."""
import pytest

from tests.script_loading import load_script
from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_speed_table_with_a_baseline_revision_and_a_lockstep_batch(tmp_path, monkeypatch, capsys):
    script = load_script("benchmark_speed", REPO_ROOT / "tracking" / "benchmark_speed.py")
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\nintro\n")
    monkeypatch.setattr(script, "BENCHMARKS", benchmarks)
    assert script.main(["--config", "cstrack_s1_tiny", "--stages", "s1", "--frames", "2", "--warmup", "1",
                        "--chunk", "1", "--threads", "1", "--batch", "1", "2", "--baseline", "--write"]) == 0
    text = benchmarks.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and text.count("<!-- speed:start -->") == 1
    rows = [line for line in text.splitlines() if line.startswith("| cstrack_s1 |")]
    assert len(rows) == 3  # baseline and this checkout at batch 1, this checkout at batch 2
    assert "baseline 4d265d9" in rows[0] and rows[1].rstrip().endswith("x |")  # the speed ratio
    script.write_section("| replaced |")
    assert benchmarks.read_text().count("<!-- speed:start -->") == 1 and "| replaced |" in benchmarks.read_text()
