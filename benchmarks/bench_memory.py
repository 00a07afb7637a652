"""Peak memory of one training step at the paper's scale, and how much of it the labels take.

Each case runs in a fresh Python process: it builds the model and env, reads the peak resident
set (VmHWM in /proc/self/status), runs one training step (sample a batch, forward, loss over every
head, backward, clip, SGD step) and reads the peak again. Printed per case: the peak growth of
the step, the whole process's peak, and the bytes of the label tensors (numpy targets, their
torch view, which shares the numpy memory, and the logits they are scored against).

    PYTHONPATH=. python benchmarks/bench_memory.py                    # paper scale (minutes)
    PYTHONPATH=. python benchmarks/bench_memory.py --hidden 32 --batch 8 --max-n 10   # smoke
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MIB = 2**20


def vm_hwm() -> int:
    """Peak resident set size of this process in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def one_step(hidden: int, batch: int, max_n: int, seq_len: int, labels: str) -> dict:
    """Run one training step here and return its memory figures."""
    import numpy as np
    import torch

    import memtasks
    from agents import LeakyRNN
    from agents.training.loop import GRAD_CLIP, paper_optimizer
    from agents.training.steps import sequence_loss

    torch.set_num_threads(1)
    torch.manual_seed(0)
    heads = tuple(range(2, max_n + 1))
    env = memtasks.MemoryTaskEnv("parity", N=heads, seq_len=seq_len, labels=labels)
    model = LeakyRNN(hidden, heads)
    opt = paper_optimizer(model.parameters())
    before = vm_hwm()

    data = env.sample_batch(batch, rng=np.random.default_rng(0))
    inputs, targets = data.to_torch("cpu")
    logits = model.readout(model(inputs)[torch.from_numpy(data.steps)])
    loss = sequence_loss(logits, targets)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    opt.step()
    peak = vm_hwm()
    return {"labels": labels, "heads": len(heads), "T": int(data.inputs.shape[0]),
            "step_growth_mib": (peak - before) / MIB, "process_peak_mib": peak / MIB,
            "targets_numpy_mib": data.targets.nbytes / MIB,
            "targets_torch_mib": targets.element_size() * targets.nelement() / MIB,
            "logits_mib": logits.element_size() * logits.nelement() / MIB,
            "finite_loss": bool(torch.isfinite(loss))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--max-n", type=int, default=100, help="heads N = 2 .. max-n")
    parser.add_argument("--seq-len", type=int, default=None,
                        help="sequence length (default: 4 * max-n + 2, the longest drawn)")
    parser.add_argument("--labels", nargs="+", default=["final", "every_step"])
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args()
    seq_len = args.seq_len or 4 * args.max_n + 2
    if args.case:
        print(json.dumps(one_step(args.hidden, args.batch, args.max_n, seq_len, args.case)))
        return

    print(f"one training step: LeakyRNN hidden={args.hidden}, batch={args.batch}, "
          f"heads N=2..{args.max_n}, T={seq_len}, CPU, one thread")
    print(f"{'labels':>10} {'step peak growth':>17} {'process peak':>13} {'targets (np)':>13} "
          f"{'targets (torch)':>16} {'logits':>9} {'labels/growth':>14}")
    for labels in args.labels:
        out = subprocess.run([sys.executable, __file__, "--hidden", str(args.hidden), "--batch",
                              str(args.batch), "--max-n", str(args.max_n), "--seq-len",
                              str(seq_len), "--case", labels],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label_bytes = r["targets_numpy_mib"] + r["logits_mib"]  # the torch targets are a view
        print(f"{labels:>10} {r['step_growth_mib']:>13.0f} MiB {r['process_peak_mib']:>9.0f} MiB "
              f"{r['targets_numpy_mib']:>9.1f} MiB {r['targets_torch_mib']:>12.1f} MiB "
              f"{r['logits_mib']:>5.1f} MiB {label_bytes / max(r['step_growth_mib'], 1e-9):>13.1%}")


if __name__ == "__main__":
    main()
