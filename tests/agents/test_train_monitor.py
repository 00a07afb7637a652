"""TensorBoard monitoring: the event files of a run hold every documented tag."""

from __future__ import annotations

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.training.loop import train
from agents.training.monitor import timescales

RUN = dict(epochs=2, steps_per_epoch=2, eval_steps=1, batch_size=8, progress=False)


def events(logdir):
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0,
                                                        "tensors": 0})
    acc.Reload()
    return acc


@pytest.fixture
def model_with_timescales(user_model_class):
    class WithTimescales(user_model_class):
        def timescales(self):
            return torch.linspace(1.0, 3.0, self.hidden_size)

    torch.manual_seed(0)
    return WithTimescales()


def test_event_files_hold_every_tag(model_with_timescales, make_env, tmp_path):
    history = train(model_with_timescales, make_env((2, 3)), logdir=tmp_path, **RUN)
    acc = events(tmp_path)
    scalars = set(acc.Tags()["scalars"])
    assert scalars == {"loss", "accuracy/N=2", "accuracy/N=3", "accuracy/mean", "curriculum/max_N",
                       "curriculum/heads", "tau/mean", "tau/std", "time/epoch_seconds",
                       "time/samples_per_second"}
    assert acc.Tags()["histograms"] == ["tau/hist"]
    assert "config/text_summary" in acc.Tags()["tensors"]

    def values(tag):
        return [e.value for e in acc.Scalars(tag)]

    assert [e.step for e in acc.Scalars("loss")] == [1, 2]
    assert values("loss") == pytest.approx(history.loss)
    assert values("accuracy/N=3") == pytest.approx([a[3] for a in history.accuracy])
    assert values("accuracy/mean") == pytest.approx([(a[2] + a[3]) / 2 for a in history.accuracy])
    assert values("curriculum/max_N") == [3, 3] and values("curriculum/heads") == [2, 2]
    taus = torch.linspace(1.0, 3.0, model_with_timescales.hidden_size)
    assert values("tau/mean") == pytest.approx([2.0, 2.0])
    assert values("tau/std") == pytest.approx([taus.std(unbiased=False).item()] * 2, rel=1e-5)
    assert acc.Histograms("tau/hist")[0].histogram_value.num == taus.numel()
    config = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"steps_per_epoch": 2' in config and '"batch_size": 8' in config


def test_model_without_timescales_logs_everything_else(user_gru, make_env, tmp_path):
    assert timescales(user_gru) is None
    train(user_gru, make_env(2), logdir=tmp_path, **RUN)
    acc = events(tmp_path)
    assert "loss" in acc.Tags()["scalars"] and "tau/mean" not in acc.Tags()["scalars"]
    assert acc.Tags()["histograms"] == []


def test_progress_bar_shows_N_and_accuracy(user_gru, make_env, capsys):
    train(user_gru, make_env((2, 4)), **dict(RUN, progress=True))
    err = capsys.readouterr().err
    assert "N=4" in err and "acc=" in err and "step" in err
