"""The runs each claim needs at each scale, as data: a :class:`Scale` expands to planned runs.

Each :class:`PlannedRun` is a :class:`RunConfig` and the claims it serves; its ``name`` is its
run directory under ``OUT/runs``. The same list feeds local training, the time estimate and the
paper-scale sweep (:meth:`PlannedRun.sweep_run`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.experiments.config import RunConfig
from agents.experiments.sweep import SweepRun


@dataclass(frozen=True)
class PlannedRun:
    """A run of the reproduction and the claims it serves. Reads through to its config
    (``run.task``, ``run.heads``…); ``init_from=(name, N)`` names a sibling run of the plan."""

    config: RunConfig
    claims: tuple[int, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "config":  # copy and pickle look before init
            raise AttributeError(name)
        return getattr(self.config, name)

    @property
    def name(self) -> str:
        """Its run directory under ``OUT/runs``, unique within a plan."""
        return self.config.name

    def sweep_run(self) -> SweepRun:
        """This run as a sweep job at ``<runs dir>/<name>`` (one that starts from another run
        must wait for it: see ``ready`` of :func:`agents.experiments.sweep.run_sweep`)."""
        return SweepRun(self.config, self.name, self.name)


@dataclass(frozen=True)
class Scale:
    """Sizes of a reproduction: networks, budgets per run, and the grids of each claim."""

    name: str
    hidden: int
    gated_hidden: int
    seeds: int
    epochs: int
    steps_per_epoch: int
    eval_steps: int
    batch_size: int
    time_budget: float | None       # seconds per run (None: epochs only)
    max_N: int | None               # curricula stop there
    tasks: tuple[str, ...]          # claim 1
    fixed_N: tuple[int, ...]        # claim 2 (and the no-curriculum arm of claim 8)
    fixed_taus: tuple[float, ...]   # claim 3
    gated: tuple[str, ...]          # claim 8
    retrain_at: int                 # claim 9: networks saved at this N ...
    retrain_N: tuple[int, ...]      # ... are retrained on each of these
    retrain_epochs: int
    record_steps: int               # τ_net: recorded steps per trial (the paper: 100,000 × 10)
    record_trials: int
    accuracy_steps: int             # ablation / perturbation accuracy tests (the paper: 1,000
    accuracy_repeats: int           # scored steps, 10 streams, 10 perturbations per ε)
    perturb_draws: int
    threshold: float = 0.98         # accuracy that counts as solved (smoke: low, so stages run)
    device: str = "cpu"
    trains_locally: bool = True     # paper scale: trained by the sweep's executor (SLURM/local)
    caps: Mapping[str, int] = field(default_factory=dict)  # epochs by arm (see arm()), else epochs
    control_seeds: int = 2          # seeds of the control grids (claims 3, 8; 2 unless fixed_seeds)
    fixed_seeds: int | None = None  # seeds of claim 2's fixed-N runs (None: control_seeds)
    gated_device: str | None = None  # where GRUs/LSTMs train (None: device)
    gated_fixed_N: tuple[int, ...] | None = None  # claim 8's no-curriculum N (None: fixed_N)
    jobs: int | None = None         # runs trained at once through the sweep's local executor
    measured_N: tuple[int, ...] | None = None  # τ_net at these N (stages reached; None: all)

    def epochs_of(self, arm_: str) -> int:
        """The epoch cap of the runs of ``arm_``."""
        return self.caps.get(arm_, self.epochs)

    def ablate_k(self) -> int:
        """Neurons silenced per group: the paper's 20 of 500 (4 %), at least one."""
        return max(1, round(0.04 * self.hidden))


SCALES: Mapping[str, Scale] = {
    "smoke": Scale("smoke", hidden=16, gated_hidden=8, seeds=1, epochs=3, steps_per_epoch=4,
                   eval_steps=2, batch_size=16, threshold=0.5, time_budget=None, max_N=4, tasks=("parity",),
                   fixed_N=(2, 3), fixed_taus=(1.0, 2.0), gated=("gru",), retrain_at=2,
                   retrain_N=(3,), retrain_epochs=1, record_steps=300, record_trials=1,
                   accuracy_steps=50, accuracy_repeats=2, perturb_draws=1),
    "cpu": Scale("cpu", hidden=64, gated_hidden=32, seeds=3, epochs=200, steps_per_epoch=100,
                 eval_steps=10, batch_size=128, time_budget=120.0, max_N=None,
                 tasks=("parity", "dms"), fixed_N=(4, 6, 8, 10, 12), fixed_taus=(1.0, 3.0),
                 gated=("gru", "lstm"), retrain_at=6, retrain_N=(8, 10, 12), retrain_epochs=10,
                 record_steps=100_000, record_trials=10, accuracy_steps=1000, accuracy_repeats=10,
                 perturb_draws=10),
    # the paper's network and training settings, capped to fit ~10 min on one H100 (see
    # docs/reproduction/README.md for how the caps were chosen)
    "gpu": Scale("gpu", hidden=500, gated_hidden=32, seeds=2, epochs=40, steps_per_epoch=600,
                 eval_steps=50, batch_size=256, time_budget=420.0, max_N=40,
                 tasks=("parity", "dms"), fixed_N=(5, 8, 12, 16), fixed_taus=(1.0, 2.0, 3.0),
                 gated=("gru", "lstm"), retrain_at=12, retrain_N=(14, 20), retrain_epochs=5,
                 record_steps=5000, record_trials=4, accuracy_steps=500, accuracy_repeats=4,
                 perturb_draws=2, device="cuda", trains_locally=False,
                 caps={"single": 45, "dms": 10, "fixed_tau": 15, "none": 10, "gated": 20},
                 control_seeds=2, fixed_seeds=1, gated_device="cpu", gated_fixed_N=(5, 10, 20),
                 jobs=15, measured_N=(2, 8, 14, 24, 40)),
    "paper": Scale("paper", hidden=500, gated_hidden=128, seeds=4, epochs=1000,
                   steps_per_epoch=600, eval_steps=50, batch_size=256, time_budget=None,
                   max_N=100, tasks=("parity", "dms"), fixed_N=(5, 10, 15, 20, 25, 30),
                   fixed_taus=(1.0, 2.0, 3.0), gated=("gru", "lstm"), retrain_at=16,
                   retrain_N=tuple(range(16, 47, 5)), retrain_epochs=20, record_steps=100_000,
                   record_trials=10, accuracy_steps=1000, accuracy_repeats=10, perturb_draws=10,
                   device="cuda", trains_locally=False),
}


def arm(config: RunConfig) -> str:
    """The group of runs a scale caps alike: none, gated, fixed_tau, dms, single or multi."""
    if config.curriculum == "none":
        return "none"
    if config.model != "leaky":
        return "gated"
    if config.fixed_tau is not None:
        return "fixed_tau"
    return "dms" if config.task == "dms" else config.curriculum


def make_plan(scale: Scale) -> list[PlannedRun]:
    """Every run the nine claims need at ``scale``, in an order where sources precede retraining."""
    base = dict(seed=0, steps_per_epoch=scale.steps_per_epoch, eval_steps=scale.eval_steps,
                batch_size=scale.batch_size, time_budget=scale.time_budget,
                threshold=scale.threshold, device=scale.device)
    seeds = range(scale.seeds)
    few = range(min(scale.seeds, scale.control_seeds))  # the control grids use fewer seeds

    def run(claims: tuple[int, ...], task="parity", curriculum="multi", model="leaky", heads=(2,),
            **kw) -> PlannedRun:
        gated = model != "leaky"
        config = RunConfig(task=task, curriculum=curriculum, model=model,
                           hidden=scale.gated_hidden if gated else scale.hidden, heads=heads,
                           max_n=scale.max_N if curriculum != "none" else None, epochs=1,
                           **{**base, **kw})
        device = (scale.gated_device or scale.device) if gated else scale.device
        return PlannedRun(dataclasses.replace(config, epochs=scale.epochs_of(arm(config)),
                                              device=device), claims)

    plan = [run((1, 4, 5, 6, 7) if task == "parity" else (1,), task, curriculum, seed=s)
            for task in scale.tasks for curriculum in ("single", "multi") for s in seeds]
    plan += [run((2,), curriculum="none", heads=(n,), seed=s) for n in scale.fixed_N
             for s in range(min(scale.seeds, scale.fixed_seeds or scale.control_seeds))]
    plan += [run((3,), curriculum=c, fixed_tau=t, seed=s)
             for c, taus in (("multi", scale.fixed_taus), ("single", scale.fixed_taus[:1]))
             for t in taus for s in few]
    plan += [run((8,), curriculum=c, model=m, seed=s)
             for m in scale.gated for c in ("single", "multi") for s in few]
    plan += [run((8,), curriculum="none", model=m, heads=(n,), seed=0)
             for m in scale.gated for n in scale.gated_fixed_N or scale.fixed_N]
    sources = [p for p in plan if p.seed < 2 and p.task == "parity" and p.model == "leaky"
               and p.fixed_tau is None and p.curriculum in ("single", "multi")]
    plan += [PlannedRun(dataclasses.replace(
        src.config, curriculum="none", heads=(n,), epochs=scale.retrain_epochs, max_n=None,
        init_from=(src.name, scale.retrain_at)), (9,))
        for src in sources for n in scale.retrain_N]
    return plan
