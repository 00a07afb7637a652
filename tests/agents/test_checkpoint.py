import pickle

import pytest
import torch

import agents
from agents import GRU, LSTM, LeakyRNN

MULTI, SINGLE = "multihead_parity_N2_N5.pt", "singlehead_parity_N5.pt"


@pytest.mark.parametrize("make", [
    lambda: LeakyRNN(6, (2, 5), tau=2.0, train_tau=False, activation="tanh", h0="zeros"),
    lambda: LeakyRNN(6, (3,)),
    lambda: LeakyRNN([5, 4, 3], (2, 3), leak="outside", activation="relu"),
    lambda: GRU(5, (2, 3), input_size=2),
    lambda: LSTM(5, (4,)),
])
def test_round_trip_keeps_kind_config_heads_and_outputs(make, tmp_path):
    torch.manual_seed(0)
    model = make()
    model.set_heads(model.heads + (9,))
    agents.save(model, tmp_path / "m.pt")
    loaded = agents.load(tmp_path / "m.pt")
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert loaded.heads == model.heads
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    inputs = torch.rand(4, 3, model.input_size)
    torch.manual_seed(1)
    expected = model.readout(model(inputs))
    torch.manual_seed(1)
    torch.testing.assert_close(loaded.readout(loaded(inputs)), expected)
    assert list(tmp_path.iterdir()) == [tmp_path / "m.pt"]  # no temporary file left behind


def test_files_from_before_the_leak_option_load_as_leak_inside(tmp_path):
    torch.manual_seed(0)
    model = LeakyRNN(6, (2,), leak="inside")
    agents.save(model, tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    del payload["config"]["leak"]  # what a file written before the option holds
    torch.save(payload, tmp_path / "old.pt")
    old = agents.load(tmp_path / "old.pt")
    assert old.leak == "inside" and old.config() == model.config()
    outside = LeakyRNN(6, (2,), leak="outside")
    agents.save(outside, tmp_path / "out.pt")
    assert agents.load(tmp_path / "out.pt").leak == "outside"


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        agents.load(tmp_path / "nope.pt")


class Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.mkdir, (str(self.marker),)


def bad_files(tmp_path):
    good = tmp_path / "good.pt"
    agents.save(LeakyRNN(4, 2), good)
    data = good.read_bytes()
    marker = tmp_path / "pwned"
    files = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "foreign": b"hello, this is not a checkpoint\n" * 10,
        "hostile_pickle": pickle.dumps({"state_dict": Hostile(marker)}),
        "plain_pickle_list": pickle.dumps([1, 2, 3]),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.pt"
        paths[name].write_bytes(content)
    paths["hostile_torch"] = tmp_path / "hostile_torch.pt"
    torch.save({"format": "x", "evil": Hostile(marker)}, paths["hostile_torch"])
    paths["other_torch"] = tmp_path / "other_torch.pt"
    torch.save({"weights": torch.zeros(3)}, paths["other_torch"])
    return paths, marker


@pytest.mark.parametrize("loader", [agents.load, lambda p: agents.load_reference_checkpoint(p, (2,))])
def test_bad_files_give_one_line_value_error_and_run_nothing(tmp_path, loader):
    paths, marker = bad_files(tmp_path)
    for name, path in paths.items():
        with pytest.raises(ValueError) as info:
            loader(path)
        message = str(info.value)
        assert str(path) in message and "\n" not in message, name
        error = info.value  # no torch traceback chained underneath
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert not marker.exists()


def test_save_refuses_foreign_models(tmp_path):
    with pytest.raises(TypeError, match="Linear"):
        agents.save(torch.nn.Linear(2, 2), tmp_path / "x.pt")


def test_reference_file_through_load_points_to_the_importer(reference):
    with pytest.raises(ValueError, match="load_reference_checkpoint"):
        agents.load(reference(MULTI))


def test_reference_import_maps_the_papers_keys(reference):
    path = reference(MULTI)
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    model = agents.load_reference_checkpoint(path, (2, 3, 4, 5))
    assert isinstance(model, LeakyRNN) and model.hidden_size == 500 and model.heads == (2, 3, 4, 5)
    assert model.tau.requires_grad and torch.equal(model.tau, state["parameterlist.0"])
    assert torch.equal(model.recurrent.weight, state["modulelist.1.weight"])
    assert torch.equal(model.input.bias, state["modulelist.0.bias"])
    assert torch.equal(model.readouts.linears["4"].weight, state["modulelist.4.weight"])
    with pytest.raises(ValueError, match="heads"):
        agents.load_reference_checkpoint(path, tuple(range(2, 200)))


def hand_made_parity(heads, batches, seed):
    """The paper's data written out plainly: p ~ U(0,1) per sequence, T in [N+2, 4N+2)."""
    generator = torch.Generator().manual_seed(seed)
    top = max(heads)
    for _ in range(batches):
        steps = int(torch.randint(top + 2, 4 * top + 2, (), generator=generator))
        p = torch.rand(256, generator=generator)
        bits = (torch.rand(steps, 256, generator=generator) < p).float()
        targets = torch.stack([bits[-n:].sum(0) % 2 for n in heads], dim=-1).long()
        yield bits[..., None], targets


@pytest.mark.parametrize("name, heads", [(MULTI, (2, 3, 4, 5)), (SINGLE, (5,))])
def test_reference_networks_solve_parity_hand_made_data(reference, name, heads):
    model = agents.load_reference_checkpoint(reference(name), heads)
    torch.manual_seed(0)
    correct = []
    with torch.no_grad():
        for inputs, targets in hand_made_parity(heads, batches=16, seed=1):
            correct.append(model.readout(model(inputs)[-1]).argmax(-1) == targets)
    accuracy = torch.cat(correct).float().mean(0)  # (H,) over 4096 sequences
    assert (accuracy >= 0.98).all(), accuracy


@pytest.mark.parametrize("name, heads", [(MULTI, (2, 3, 4, 5)), (SINGLE, (5,))])
def test_reference_networks_solve_memtasks_parity(reference, name, heads):
    gym = pytest.importorskip("gymnasium")
    memtasks = pytest.importorskip("memtasks")
    if not hasattr(memtasks, "Batch"):
        pytest.skip("memtasks envs not available yet")
    env = gym.make("memtasks/Parity-v0", N=list(heads))
    model = agents.load_reference_checkpoint(reference(name), heads)
    torch.manual_seed(0)
    correct = total = 0
    for seed in range(16):
        batch = env.unwrapped.sample_batch(256, rng=seed)
        assert batch.heads == heads
        inputs, targets = batch.to_torch("cpu")
        with torch.no_grad():
            logits = model.readout(model(inputs)[torch.as_tensor(batch.steps)])
        labelled = targets >= 0
        correct = correct + ((logits.argmax(-1) == targets) & labelled).sum((0, 1))
        total = total + labelled.sum((0, 1))
    assert ((correct / total) >= 0.98).all(), correct / total
