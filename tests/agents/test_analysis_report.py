import argparse
import json
from pathlib import Path

import pytest
import torch

import agents
from agents import GRU, LeakyRNN, analysis

PAPER = {"multihead_parity_N2_N5.pt": (2, 3, 4, 5), "singlehead_parity_N5.pt": (5,)}
FIGURES = {"autocorrelations.png", "timescales_hist.png", "timescales_vs_N.png", "ablation.png",
           "perturbation.png"}
SMALL = {"steps": 1500, "trials": 2, "burn_in": 100, "max_lag": 60, "epsilons": (0.0, 0.5),
         "draws": 1, "accuracy_steps": 200, "warmup": 50, "repeats": 2, "progress": False}


def check_outputs(out: Path, results: dict) -> None:
    names = {p.name for p in out.iterdir()}
    assert FIGURES | {"analysis.json"} <= names
    for figure in FIGURES:
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "analysis.json").read_text()) == json.loads(json.dumps(results))


@pytest.mark.slow  # ~6 s each: 1,000 exponential fits
@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_checkpoints_are_analysed_end_to_end(reference, name, tmp_path):
    results = analysis.analyze_run(reference(name), tmp_path, heads=PAPER[name], **SMALL)
    check_outputs(tmp_path, results)
    (stage,) = results["stages"]
    assert stage["N"] == 5 and stage["heads"] == list(PAPER[name])
    assert 1.0 <= stage["tau_mean"] and stage["tau_net_mean"] > 0
    assert len(results["final"]["tau_net"]) == 500
    ablation = results["ablation"]
    assert min(ablation["baseline"]) > 0.9 and ablation["k"] == 50
    for target in ("weights", "tau"):
        assert results["perturbation"][target]["relative"][0] == [1.0]  # ε = 0: the baseline


def test_a_paper_checkpoint_needs_its_heads(reference, tmp_path):
    with pytest.raises(ValueError, match="heads"):
        analysis.analyze_run(reference("singlehead_parity_N5.pt"), tmp_path, **SMALL)


def make_run(root: Path, make) -> Path:
    """A run directory as agents.train writes it: the model of each epoch in models/."""
    (root / "models").mkdir(parents=True)
    torch.manual_seed(0)
    model = make()
    for epoch, heads in enumerate([(2,), (2,), (2, 3), (2, 3, 4)], start=1):
        model.set_heads(heads)
        agents.save(model, root / "models" / f"epoch_{epoch:04d}.pt")
    return root


@pytest.mark.parametrize("make", [lambda: LeakyRNN(16, (2,)), lambda: GRU(8, (2,))])
def test_a_run_is_analysed_stage_by_stage_into_its_analysis_folder(make, tmp_path):
    run = make_run(tmp_path / "run", make)
    results = analysis.analyze_run(run, task="dms", **SMALL)
    check_outputs(run / "analysis", results)
    assert [(s["name"], s["N"]) for s in results["stages"]] == [
        ("epoch_0002", 2), ("epoch_0003", 3), ("epoch_0004", 4)]
    leaky = isinstance(make(), LeakyRNN)
    assert results["task"] == "dms" and results["ablation"]["k"] == 1  # a tenth, at least one
    assert results["protocol"] == "project" and results["ablation"]["kind"] == "group"
    assert set(results["perturbation"]) == ({"weights", "tau"} if leaky else {"weights"})


def test_missing_runs_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="models/epoch_XXXX.pt"):
        analysis.analyze_run(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        analysis.analyze_run(tmp_path)


def analyze_arguments(*argv: str) -> argparse.Namespace:
    """``argv`` parsed by the ``memtasks analyze`` arguments."""
    parser = argparse.ArgumentParser()
    analysis.add_analyze_arguments(parser)
    return parser.parse_args(argv)


def test_the_command_line_arguments_drive_analyze_run(tmp_path, capsys):
    run = make_run(tmp_path / "run", lambda: LeakyRNN(12, (2,)))
    args = analyze_arguments(str(run), "--steps", "800", "--trials", "1", "--repeats", "1",
                             "--epsilons", "0", "0.2", "--fit-lag", "20", "--no-progress",
                             "--tensorboard")
    assert analysis.run_analyze(args) == 0
    assert "written to" in capsys.readouterr().out
    out = run / "analysis"
    assert json.loads((out / "analysis.json").read_text())["settings"]["fit_lag"] == 20
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out)).Reload()
    assert set(events.Tags()["images"]) == {f"analysis/{Path(f).stem}" for f in FIGURES}


@pytest.mark.parametrize("kwargs, name", [({"steps": 0}, "steps"), ({"max_lag": 2000}, "max_lag"),
                                          ({"repeats": 0}, "repeats")])
def test_bad_settings_fail_before_any_work(kwargs, name, tmp_path):
    run = make_run(tmp_path / "run", lambda: LeakyRNN(4, (2,)))
    with pytest.raises(ValueError, match=name):
        analysis.analyze_run(run, **{**SMALL, **kwargs})
    assert not (run / "analysis").exists()


PAPER_SMALL = {"steps": 1500, "trials": 2, "burn_in": 100, "ablate_k": 2, "draws": 2,
               "accuracy_steps": 200, "warmup": 50, "repeats": 2, "progress": False}


def model_file(path: Path) -> Path:
    torch.manual_seed(0)
    agents.save(LeakyRNN(8, (2, 3)), path)
    return path


def test_the_paper_protocol_writes_its_numbers_under_paper_and_draws_them(tmp_path):
    file = model_file(tmp_path / "net.pt")
    results = analysis.analyze_run(file, tmp_path / "out", protocol="paper", **PAPER_SMALL)
    check_outputs(tmp_path / "out", results)
    assert results["protocol"] == "paper" and "ablation" not in results
    expected = analysis.paper_protocol(agents.load(file), 3, k=2, trials=2, steps=1500, burn_in=100,
                                       draws=2, accuracy_steps=200, warmup=50, repeats=2,
                                       progress=False)
    assert results["paper"] == expected
    assert json.loads((tmp_path / "out" / "analysis.json").read_text())["paper"]["perturbation"] == {
        "weights": {"0.215": expected["perturbation"]["weights"][0.215]},
        "tau": {"0.1": expected["perturbation"]["tau"][0.1]}}
    (stage,) = results["stages"]
    assert stage["tau_mean"] == expected["tau"]["mean"]  # the raw τ, the paper's
    assert stage["tau_net_mean"] == expected["tau_net"]["mean_above_1"]
    assert stage["dimensionality_90"] == expected["dimensionality"]


def test_analyze_takes_the_protocol_from_the_command_line(tmp_path, capsys):
    file = model_file(tmp_path / "net.pt")
    args = analyze_arguments(str(file), "--protocol", "paper", "--steps", "600", "--trials", "1",
                             "--repeats", "1", "--ablate-k", "1", "--epsilons", "0.3",
                             "--no-progress")
    assert analysis.run_analyze(args) == 0
    assert "paper protocol at N=3" in capsys.readouterr().out
    paper = json.loads((tmp_path / "analysis" / "net" / "analysis.json").read_text())["paper"]
    assert paper["k"] == 1 and paper["settings"]["steps"] == 600
    assert set(paper["perturbation"]["weights"]) == {"0.3"}
    with pytest.raises(ValueError, match="protocol"):
        analysis.analyze_run(file, protocol="authors")
