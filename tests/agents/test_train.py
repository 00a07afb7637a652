"""agents.train: the loss, accuracy, optimizer bookkeeping, stopping rules, argument checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import curricula
from agents.training import runstate
from agents.training.loop import EpochRecord, History, NonFiniteLossError, solved_N, train
from agents.training.steps import count_correct, sequence_loss

SMALL = dict(epochs=2, steps_per_epoch=3, eval_steps=2, batch_size=8, progress=False)


def naive_loss(logits, targets):
    """Per head: mean over labelled entries of -log softmax at the target; summed over heads."""
    total = 0.0
    for h in range(targets.shape[2]):
        terms = [-torch.log_softmax(logits[l, b, h], -1)[targets[l, b, h]]
                 for l in range(targets.shape[0]) for b in range(targets.shape[1])
                 if targets[l, b, h] >= 0]
        total = total + torch.stack(terms).mean()
    return total


def random_targets(L, B, H, seed=0):
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, 2, (L, B, H), generator=g)
    for h in range(min(H, L - 1)):  # head h has no label at its first h steps (every_step labels)
        targets[:h, :, h] = -1
    return targets, torch.randn(L, B, H, 2, generator=g, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("L,B,H", [(1, 5, 1), (1, 4, 3), (6, 3, 4)])
def test_loss_matches_naive_values_and_gradients(L, B, H):
    targets, logits = random_targets(L, B, H)
    fast, slow = sequence_loss(logits, targets), naive_loss(logits, targets)
    torch.testing.assert_close(fast, slow)
    g_fast, = torch.autograd.grad(fast, logits)
    g_slow, = torch.autograd.grad(slow, logits)
    torch.testing.assert_close(g_fast, g_slow)


def test_count_correct_counts_labelled_entries_only():
    targets, logits = random_targets(5, 7, 3, seed=1)
    right, total = count_correct(logits, targets)
    pred = logits.argmax(-1)
    for h in range(3):
        mask = targets[:, :, h] >= 0
        assert total[h] == mask.sum()
        assert right[h] == (pred[:, :, h][mask] == targets[:, :, h][mask]).sum()


def test_solved_N_is_largest_head_strictly_above_threshold():
    assert solved_N({2: 0.99, 3: 0.99, 4: 0.5}) == 3
    assert solved_N({2: 0.98}) == 0
    assert solved_N({2: 0.5, 5: 0.99}, threshold=0.9) == 5


def test_history_json_round_trip():
    history = History([EpochRecord(1, (2, 3), 0.5, {2: 1.0, 3: 0.75}, 1.5, 100.0, 1.2, 0.1)],
                      stop_reason="epochs")
    back = History.from_dict(json.loads(json.dumps(history.to_dict())))
    assert back == history
    assert back.accuracy == [{2: 1.0, 3: 0.75}] and back.heads == [(2, 3)]


@pytest.mark.parametrize("labels", ["final", "every_step"])
def test_train_returns_history_and_writes_run_dir(user_gru, make_env, tmp_path, labels):
    history = train(user_gru, make_env((2, 3), labels), checkpoint_dir=tmp_path, **SMALL)
    assert len(history) == 2 and history.stop_reason == "epochs"
    for i, r in enumerate(history.records, 1):
        assert r.epoch == i and r.heads == (2, 3) and set(r.accuracy) == {2, 3}
        assert np.isfinite(r.loss) and r.seconds > 0 and r.samples_per_second > 0
        assert all(0 <= a <= 1 for a in r.accuracy.values())
    on_disk = json.loads((tmp_path / "history.json").read_text())
    assert History.from_dict(on_disk) == history
    state = runstate.load_state(tmp_path / "checkpoint.pt")
    assert state["epoch"] == 2 and state["heads"] == [2, 3]
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["epoch"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_training_lowers_the_loss(user_gru, make_env):
    history = train(user_gru, make_env(2), epochs=4, steps_per_epoch=40, eval_steps=2,
                    batch_size=32, progress=False)
    assert history.loss[-1] < history.loss[0]


def test_model_takes_the_env_heads_at_start(user_gru, make_env):
    train(user_gru, make_env((3, 5)), **dict(SMALL, epochs=1))
    assert user_gru.heads == (3, 5)


def test_new_heads_reach_the_optimizer_and_survivors_keep_momentum(user_gru, make_env):
    env = make_env(2, curriculum=True)
    env.threshold = -1.0  # every epoch counts as solved: MultiHead grows a head per epoch
    built = []

    def factory(params):
        built.append(torch.optim.SGD(params, lr=0.05, momentum=0.5))
        return built[-1]

    history = train(user_gru, env, optimizer=factory, threshold=0.98, **dict(SMALL, epochs=3))
    assert history.heads == [(2,), (2, 3), (2, 3, 4)] and user_gru.heads == (2, 3, 4, 5)
    assert len(built) == 4  # the first and one per change
    params = list(user_gru.parameters())
    assert [p for g in built[-1].param_groups for p in g["params"]] == params
    w3 = user_gru.readouts["3"].weight
    assert w3 in built[-2].state  # the head for N=3 was trained during epoch 3 ...
    assert built[-1].state[w3] is built[-2].state[w3]  # ... and its momentum survived the rebuild


def test_dropped_heads_leave_the_optimizer(user_gru, make_env):
    env = curricula.Sliding(make_env((2, 3)), forget=1)
    env.threshold = -1.0  # every epoch counts as solved: (2, 3) → (3, 4) → (4, 5)
    old_head = user_gru.readouts["2"].weight if "2" in user_gru.readouts else None
    built = []
    train(user_gru, env, threshold=0.98,
          optimizer=lambda params: built.append(torch.optim.SGD(params, lr=0.1)) or built[-1],
          **SMALL)
    assert user_gru.heads == (4, 5)
    in_optimizer = [p for g in built[-1].param_groups for p in g["params"]]
    assert in_optimizer == list(user_gru.parameters())
    assert old_head is not None and all(p is not old_head for p in in_optimizer)


def test_target_N_and_time_budget_stop_early(user_gru, make_env):
    history = train(user_gru, make_env(2), target_N=2, threshold=0.01, **dict(SMALL, epochs=5))
    assert len(history) == 1 and history.stop_reason == "target_N"
    history = train(user_gru, make_env(2), time_budget=1e-9, **dict(SMALL, epochs=5))
    assert len(history) == 1 and history.stop_reason == "time_budget"


def test_curriculum_finished_stops(user_gru, make_env):
    env = curricula.Fixed(make_env(2))
    env.threshold = -1.0  # solved at once; Fixed has no next stage, so it is finished
    history = train(user_gru, env, threshold=0.98, **dict(SMALL, epochs=5))
    assert len(history) == 1 and history.stop_reason == "finished"


class PoisonedGRU(torch.nn.Module):
    """Wraps a model; from its ``after``-th forward with gradients on, its states are NaN."""

    def __init__(self, inner, after):
        super().__init__()
        self.inner, self.after, self.calls = inner, after, 0
        self.set_heads, self.readout = inner.set_heads, inner.readout

    @property
    def heads(self):
        return self.inner.heads

    def forward(self, inputs):
        self.calls += torch.is_grad_enabled()
        states = self.inner(inputs)
        return states * float("nan") if self.calls >= self.after else states


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_last_checkpoint(user_gru, make_env,
                                                                        tmp_path):
    model = PoisonedGRU(user_gru, after=3 + 3)  # epoch 1 trains 3 steps: step 3 of epoch 2
    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 2, step 3.*checkpoint\.pt") as err:
        train(model, make_env(2), checkpoint_dir=tmp_path, **dict(SMALL, epochs=4))
    assert (err.value.epoch, err.value.step) == (2, 3)
    assert runstate.load_state(tmp_path / "checkpoint.pt")["epoch"] == 1
    assert len(json.loads((tmp_path / "history.json").read_text())["records"]) == 1


def test_existing_run_is_not_overwritten_without_resume(user_gru, make_env, tmp_path):
    train(user_gru, make_env(2), checkpoint_dir=tmp_path, **SMALL)
    with pytest.raises(ValueError, match="already holds a run"):
        train(user_gru, make_env(2), checkpoint_dir=tmp_path, **SMALL)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(epochs=0), ValueError, "epochs=0"),
    (dict(epochs=2.5), TypeError, "epochs=2.5"),
    (dict(steps_per_epoch=-1), ValueError, "steps_per_epoch=-1"),
    (dict(eval_steps=0), ValueError, "eval_steps=0"),
    (dict(batch_size=True), TypeError, "batch_size=True"),
    (dict(seed=-3), ValueError, "seed=-3"),
    (dict(device="tpu"), ValueError, "device='tpu'"),
    (dict(device=3), TypeError, "device=3"),
    (dict(optimizer="adam"), TypeError, "optimizer='adam'"),
    (dict(target_N=0), ValueError, "target_N=0"),
    (dict(time_budget=-1.0), ValueError, "time_budget=-1.0"),
    (dict(time_budget=float("nan")), ValueError, "time_budget=nan"),
    (dict(lr=0), ValueError, "lr=0"),
    (dict(grad_clip="2"), TypeError, "grad_clip='2'"),
    (dict(threshold=1.5), ValueError, "threshold=1.5"),
    (dict(progress="yes"), TypeError, "progress='yes'"),
    (dict(resume=1), TypeError, "resume=1"),
    (dict(resume=True), ValueError, "resume=True needs checkpoint_dir"),
    (dict(logdir=3), TypeError, "logdir=3"),
])
def test_bad_arguments_are_named(user_gru, make_env, kwargs, error, words, tmp_path):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(".", r"\.")):
        train(user_gru, make_env(2), **{**SMALL, **kwargs})
    assert not list(tmp_path.iterdir())


def test_bad_model_and_env_are_named(user_gru, make_env):
    with pytest.raises(TypeError, match="model"):
        train(torch.nn.Linear(1, 2), make_env(2), **SMALL)
    with pytest.raises(TypeError, match="env="):
        train(user_gru, object(), **SMALL)


def test_unwritable_or_file_dirs_are_refused_before_writing(user_gru, make_env, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="logdir=.*not a directory"):
        train(user_gru, make_env(2), logdir=afile, **SMALL)
    with pytest.raises(ValueError, match="checkpoint_dir=.*not writable"):
        train(user_gru, make_env(2), checkpoint_dir=afile / "sub", **SMALL)
