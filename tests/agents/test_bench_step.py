import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from agents import LeakyRNN

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


def test_paper_style_baseline_computes_the_leaky_rnn():
    """The eager baseline is the same network as LeakyRNN (same weights, same h0 draw → same logits)."""
    spec = importlib.util.spec_from_file_location("bench_step", ROOT / "benchmarks" / "bench_step.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch.manual_seed(0)
    heads = (2, 3)
    eager, model = bench.PaperStyleRNN(8, heads), LeakyRNN(8, heads)
    with torch.no_grad():
        eager.taus[0].copy_(torch.linspace(0.5, 4.0, 8))              # some τ below the clamp
        model.tau.copy_(eager.taus[0])
        model.input.load_state_dict(eager.input_layer.state_dict())
        model.recurrent.bias.copy_(eager.w_hh.bias)
        model.recurrent.weight.copy_(eager.w_hh.weight * (1 - torch.eye(8)))
        for n, head in zip(heads, eager.fc):
            model.readouts.linears[str(n)].load_state_dict(head.state_dict())
    inputs = torch.randint(0, 2, (7, 5, 1)).float()
    torch.manual_seed(1)
    expected = torch.stack(eager(inputs), dim=1)
    torch.manual_seed(1)
    assert torch.allclose(model.readout(model(inputs)[-1]), expected, atol=1e-6)
    assert eager.w_hh.weight.diagonal().abs().max() == 0
