import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_step_runs_and_reports_every_variant(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, "benchmarks/bench_step.py", "--sizes", "2", "--repeats", "1",
                    "--warmup", "0", "--threads", "1", "--json", str(out)],
                   cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}, check=True,
                   capture_output=True, timeout=120)
    (row,) = json.loads(out.read_text())
    assert row["hidden"] == 64 and set(row["median_s"]) == {"project", "eager", "torch", "floor"}
    assert row["speedup_vs_eager"]["eager"] == 1.0 and all(v > 0 for v in row["peak_mib"].values())
