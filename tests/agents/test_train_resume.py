"""Run checkpoints: a resumed run ends exactly as an uninterrupted one; bad files are refused."""

from __future__ import annotations

import json

import pytest
import torch

from agents import LeakyRNN, load
from agents.training import runstate
from agents.training.loop import History, train

RUN = dict(steps_per_epoch=4, eval_steps=2, batch_size=8, seed=3, progress=False, threshold=0.98)


@pytest.fixture
def fresh(make_env, user_model_class):
    def make(init_seed, **model_kwargs):
        torch.manual_seed(init_seed)
        env = make_env(2, curriculum=True)
        env.threshold = -1.0  # grows a head every epoch: heads change on both sides of the break
        return user_model_class(**model_kwargs), env
    return make


def without_seconds(history):
    return [(r.epoch, r.heads, r.loss, r.accuracy, r.tau_mean) for r in history.records]


def test_six_epochs_equal_three_plus_resume(fresh, tmp_path):
    model_a, env_a = fresh(0)
    full = train(model_a, env_a, epochs=6, checkpoint_dir=tmp_path / "a", **RUN)

    model_b, env_b = fresh(0)
    train(model_b, env_b, epochs=3, checkpoint_dir=tmp_path / "b", **RUN)
    model_c, env_c = fresh(99)  # another init and a fresh env: all must come from disk
    resumed = train(model_c, env_c, epochs=6, checkpoint_dir=tmp_path / "b", resume=True, **RUN)

    assert without_seconds(resumed) == without_seconds(full)
    assert resumed.stop_reason == full.stop_reason == "epochs"
    assert model_c.heads == model_a.heads and env_c.unwrapped.heads == env_a.unwrapped.heads
    a, c = model_a.state_dict(), model_c.state_dict()
    assert a.keys() == c.keys()
    for name in a:
        assert torch.equal(a[name], c[name]), name


@pytest.mark.parametrize("hidden, leak", [([6, 5], "outside"), ([4, 4], "inside")])
def test_stacked_and_leak_outside_networks_resume_exactly(make_env, tmp_path, hidden, leak):
    def fresh(init_seed):
        torch.manual_seed(init_seed)
        env = make_env(2, curriculum=True)
        env.threshold = -1.0
        return LeakyRNN(hidden, (2,), leak=leak), env

    model_a, env_a = fresh(0)
    full = train(model_a, env_a, epochs=4, checkpoint_dir=tmp_path / "a", **RUN)
    model_b, env_b = fresh(0)
    train(model_b, env_b, epochs=2, checkpoint_dir=tmp_path / "b", **RUN)
    model_c, env_c = fresh(99)
    resumed = train(model_c, env_c, epochs=4, checkpoint_dir=tmp_path / "b", resume=True, **RUN)
    assert without_seconds(resumed) == without_seconds(full)
    for name, value in model_a.state_dict().items():
        assert torch.equal(model_c.state_dict()[name], value), name
    saved = load(tmp_path / "b" / runstate.MODELS / "epoch_0004.pt")
    assert (saved.leak, saved.layer_sizes) == (leak, tuple(hidden))  # saved before the heads grew


def test_resume_without_checkpoint_starts_afresh_and_finished_run_returns(fresh, tmp_path):
    stop_at_3 = dict(RUN, target_N=3, threshold=0.01)  # heads (2,) in epoch 1, (2, 3) in epoch 2
    model, env = fresh(0)
    history = train(model, env, epochs=4, checkpoint_dir=tmp_path, resume=True, **stop_at_3)
    assert len(history) == 2 and history.stop_reason == "target_N"
    model, env = fresh(0)
    again = train(model, env, epochs=5, checkpoint_dir=tmp_path, resume=True, **stop_at_3)
    assert again == history


def test_checkpoint_holds_plain_data_only(fresh, tmp_path):
    model, env = fresh(0)
    train(model, env, epochs=1, checkpoint_dir=tmp_path, **RUN)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"epoch", "heads", "model", "optimizer", "curriculum", "history", "rng",
            "config"} <= set(state)
    assert set(state["rng"]) == {"torch", "numpy", "python"}


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", None])
def test_bad_checkpoint_files_are_refused_clearly(fresh, tmp_path, content):
    path = tmp_path / "checkpoint.pt"
    if content is None:  # a truncated real checkpoint
        model, env = fresh(0)
        train(model, env, epochs=1, checkpoint_dir=tmp_path, **RUN)
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    model, env = fresh(0)
    with pytest.raises(ValueError, match="checkpoint.pt"):
        train(model, env, epochs=2, checkpoint_dir=tmp_path, resume=True, **RUN)


def test_hostile_pickle_never_runs(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "checkpoint.pt"
    torch.save({"format": runstate.FORMAT, "version": runstate.VERSION, "x": Boom()}, path)
    with pytest.raises(ValueError, match="checkpoint.pt"):
        runstate.load_state(path)
    assert not (tmp_path / "pwned").exists()


def test_checkpoint_of_another_model_is_refused(fresh, tmp_path):
    model, env = fresh(0)
    train(model, env, epochs=1, checkpoint_dir=tmp_path, **RUN)
    other, env = fresh(0, hidden_size=5)
    with pytest.raises(ValueError, match="different model"):
        train(other, env, epochs=2, checkpoint_dir=tmp_path, resume=True, **RUN)


def test_resume_repairs_what_a_kill_mid_write_leaves(fresh, tmp_path):
    model, env = fresh(0)
    train(model, env, epochs=2, checkpoint_dir=tmp_path, **RUN)
    (tmp_path / "history.json").write_text("{}")  # killed after checkpoint.pt, before history.json
    stale = tmp_path / ".checkpoint.pt.abc123.tmp"  # killed while writing checkpoint.pt
    stale.write_bytes(b"half")
    model, env = fresh(0)
    history = train(model, env, epochs=2, checkpoint_dir=tmp_path, resume=True, **RUN)
    assert len(history) == 2 and not stale.exists()
    assert History.from_dict(json.loads((tmp_path / "history.json").read_text())) == history
