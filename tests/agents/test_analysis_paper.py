"""The paper protocol against slow, obvious twins written from the authors' description.

Each twin follows the paper's procedure step by step, in float64 and plain loops, from the raw
parameters (for the reference networks: read straight from the authors' file):
- the network h_t = LeakyReLU((1 - 1/τ) h + (W h + b + W_in x_t + b_in) / τ), τ = max(τ_raw, 1),
  self-connections removed;
- accuracy per stream: the head's argmax at every step after the warm-up against the parity of
  the last N bits (prefix sums) or the DMS match x_t = x_{t-N+1};
- ablating neuron i: its recurrent row and column, input weight and readout column set to 0;
- perturbation: W + ε‖W‖ D/‖D‖ (D Gaussian over the whole matrix), τ_raw + ε‖τ_raw‖ |D|/‖D‖;
- relative accuracy: (acc - 0.5) / (best baseline stream - 0.5), averaged;
- autocorrelation: per trial and lag, the mean-subtracted lagged products over T - k, averaged
  over trials, divided by lag 0; τ_net from ``curve_fit`` exactly as the authors call it (bounds,
  default start, AIC), on C/C(0) rounded to 8 decimals (the protocol's one addition: without it,
  rounding error decides the fits of some neurons, see agents.analysis.timescales);
- dimensionality: per trial, the SVD of the centred activity, the index of the first component
  past 90 % of the variance.
The random inputs (bits, perturbation directions) are drawn the same way as the fast code's, so
that both measure the same thing; the initial states are the twin's own.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy.optimize import curve_fit
from scipy.stats import spearmanr

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN, analysis, load_reference_checkpoint
from agents.training.loop import train

REFERENCE = {"multihead_parity_N2_N5.pt": (2, 3, 4, 5), "singlehead_parity_N5.pt": (5,)}


# ---- the twins ----------------------------------------------------------------------------------

def twin_parameters_from_file(path, N: int, heads) -> dict:
    """The network as the authors saved it (their state_dict keys), head for N."""
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    head = 2 + heads.index(N)
    return {key: state[name].double().numpy().copy() for key, name in (
        ("tau", "parameterlist.0"), ("w_in", "modulelist.0.weight"), ("b_in", "modulelist.0.bias"),
        ("w_rec", "modulelist.1.weight"), ("b_rec", "modulelist.1.bias"),
        ("w_out", f"modulelist.{head}.weight"), ("b_out", f"modulelist.{head}.bias"))}


def twin_parameters_from_model(model: LeakyRNN, N: int) -> dict:
    state = {k: v.detach().double().numpy().copy() for k, v in model.state_dict().items()}
    return {"tau": state["tau"], "w_in": state["input.weight"], "b_in": state["input.bias"],
            "w_rec": state["recurrent.weight"], "b_rec": state["recurrent.bias"],
            "w_out": state[f"readouts.linears.{N}.weight"], "b_out": state[f"readouts.linears.{N}.bias"]}


def twin_run(p: dict, bits: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """States (T, streams, H), one step at a time."""
    tau = np.maximum(p["tau"], 1.0)
    w_rec = p["w_rec"] * (1 - np.eye(len(tau)))
    h, states = h0, []
    for x in bits.astype(np.float64):
        pre = (1 - 1 / tau) * h + (h @ w_rec.T + p["b_rec"] + x[:, None] * p["w_in"][:, 0] + p["b_in"]) / tau
        h = np.where(pre > 0, pre, 0.01 * pre)
        states.append(h)
    return np.stack(states)


def twin_accuracy(p: dict, bits: np.ndarray, N: int, task: str, warmup: int) -> np.ndarray:
    """Accuracy of each stream of ``bits`` (T, streams) after ``warmup`` steps."""
    h0 = np.random.default_rng(12345).uniform(0, 0.1, (bits.shape[1], len(p["tau"])))
    logits = twin_run(p, bits, h0)[warmup:] @ p["w_out"].T + p["b_out"]
    guess = (logits[..., 0] < logits[..., 1]).astype(int)
    if task == "parity":
        sums = np.cumsum(bits, axis=0)
        labels = (sums[warmup:] - sums[warmup - N:-N]) % 2
    else:
        labels = (bits[warmup:] == bits[warmup - N + 1:len(bits) - N + 1]).astype(int)
    return (guess == labels).mean(axis=0)


def twin_ablated(p: dict, neuron: int) -> dict:
    q = copy.deepcopy(p)
    q["w_rec"][neuron, :] = q["w_rec"][:, neuron] = q["w_out"][:, neuron] = q["w_in"][neuron] = 0
    return q


def twin_perturbed(p: dict, target: str, epsilon: float, seed: int) -> dict:
    q = copy.deepcopy(p)
    generator = torch.Generator().manual_seed(seed)
    if target == "weights":
        d = torch.randn(q["w_rec"].shape, generator=generator).double().numpy()
        q["w_rec"] = q["w_rec"] + epsilon / np.linalg.norm(d) * np.linalg.norm(q["w_rec"]) * d
    else:
        d = np.abs(torch.randn(q["tau"].shape, generator=generator).double().numpy())
        q["tau"] = q["tau"] + epsilon / np.linalg.norm(d) * np.linalg.norm(q["tau"]) * d
    return q


def twin_pooled_autocorrelation(act: np.ndarray, max_lag: int) -> np.ndarray:
    trials, steps, units = act.shape
    out = np.zeros((max_lag + 1, units))
    for unit in range(units):
        for trial in range(trials):
            x = act[trial, :, unit].astype(np.float64)
            x = x - x.mean()
            for k in range(max_lag + 1):
                out[k, unit] += np.dot(x[:steps - k], x[k:]) / (steps - k) / trials
    with np.errstate(invalid="ignore"):
        return out / out[0]


def twin_tau_net(ac: np.ndarray, fit_lag: int) -> np.ndarray:
    def one(t, a, tau):
        return a * np.exp(-t / tau)

    def two(t, a, tau1, tau2, c):
        return a * c * np.exp(-t / tau1) + a * (1 - c) * np.exp(-t / tau2)

    lags = np.arange(fit_lag + 1.0)
    result = []
    for column in ac.T:
        y = np.round(column[:fit_lag + 1] / column[0], 8)
        aic = []
        taus = []
        for f, bounds in ((one, ((0, 0), (1, 100))), (two, ((0, 0, 0, 0), (1, 100, 100, 1)))):
            try:
                params, _ = curve_fit(f, lags, y, maxfev=2000, bounds=bounds)
                rss = np.sum((f(lags, *params) - y) ** 2)
                aic.append(2 * len(params) + len(lags) * np.log(rss / len(lags)))
                taus.append(params[1] if f is one else max(params[1], params[2]))
            except Exception:
                aic.append(1e5)
                taus.append(np.nan)
        result.append(taus[0] if aic[0] < aic[1] else taus[1] if aic[1] < aic[0] else np.nan)
    return np.array(result)


def twin_dimensionality(act: np.ndarray, variance: float = 0.9) -> np.ndarray:
    counts = []
    for trial in act.astype(np.float64):
        s = np.linalg.svd(trial - trial.mean(axis=0), compute_uv=False)
        counts.append(np.where(np.cumsum(s ** 2 / np.sum(s ** 2)) > variance)[0][0])
    return np.array(counts)


# ---- comparing ------------------------------------------------------------------------------------

def check_accuracies_against_twin(m: analysis.PaperMeasurements, p: dict) -> None:
    """Ablation and perturbation relative accuracies within 0.02 of the twin's, same neurons."""
    s = m.settings
    bits = analysis.bernoulli_bits(np.random.default_rng(s["seed"]), s["warmup"] + s["accuracy_steps"],
                                   s["repeats"], 0.5)

    def acc(q):
        return twin_accuracy(q, bits, m.N, m.task, s["warmup"])

    best = acc(p).max()

    def relative(values):
        return float(np.mean((np.asarray(values) - 0.5) / (best - 0.5)))

    order = np.argsort(p["tau"])
    np.testing.assert_array_equal(np.sort(m.ablation["longest"][0]), np.sort(order[-m.k:]))
    np.testing.assert_array_equal(np.sort(m.ablation["shortest"][0]), np.sort(order[:m.k]))
    summary = m.summary()
    for name, (neurons, _) in m.ablation.items():
        twin = relative([acc(twin_ablated(p, i)) for i in neurons])
        assert summary["ablation"][name] == pytest.approx(twin, abs=0.02), name
    for target, by_eps in m.perturbation.items():
        for eps in by_eps:
            twin = relative([acc(twin_perturbed(p, target, eps, s["seed"] + d)) for d in range(s["draws"])])
            assert summary["perturbation"][target][eps] == pytest.approx(twin, abs=0.02), (target, eps)


def check_activity_against_twin(m: analysis.PaperMeasurements, model) -> None:
    """On the same recorded activity: τ_net per neuron (Spearman ≥ 0.95) and dimensionality (equal)."""
    s = m.settings
    act = analysis.record(model, steps=s["steps"], trials=s["trials"], burn_in=s["burn_in"],
                          seed=s["seed"])
    ac = twin_pooled_autocorrelation(act, s["fit_lag"])
    np.testing.assert_allclose(m.autocorrelation, ac, atol=1e-8)
    tau_net = twin_tau_net(ac, s["fit_lag"])
    both = np.isfinite(tau_net) & np.isfinite(m.fit.tau)
    assert both.mean() > 0.9
    assert spearmanr(m.fit.tau[both], tau_net[both]).statistic >= 0.95
    above = tau_net[tau_net > 1]
    assert m.summary()["tau_net"]["mean_above_1"] == pytest.approx(above.mean(), rel=0.02)
    np.testing.assert_array_equal(m.dimensionality, twin_dimensionality(act))


# ---- small trained networks (fast) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    """A 25-unit leaky RNN trained multi-head on parity for a few seconds (solves N = 2, 3)."""
    torch.manual_seed(0)
    env = curricula.MultiHead(gym.make("memtasks/Parity-v0", N=2))
    model = LeakyRNN(25, heads=(2,))
    train(model, env, epochs=20, steps_per_epoch=40, eval_steps=4, batch_size=64, progress=False)
    return model


@pytest.fixture(scope="module")
def measured(trained):
    return analysis.measure_paper(trained, 3, k=4, epsilons_weights=(0.215, 1.0),
                                  epsilons_tau=(0.1, 2.0), trials=3, steps=3000, draws=3,
                                  repeats=6, accuracy_steps=500, progress=False)


def test_paper_ablation_and_perturbation_agree_with_the_twin_on_a_small_trained_network(trained, measured):
    check_accuracies_against_twin(measured, twin_parameters_from_model(trained, 3))
    relative = measured.summary()
    assert relative["ablation"]["shortest"] < 0.9  # the test has teeth: ablation does hurt here
    assert relative["perturbation"]["weights"][1.0] < 0.9


def test_paper_tau_net_and_dimensionality_agree_with_the_twin_on_the_same_activity(trained, measured):
    check_activity_against_twin(measured, trained)


def test_the_paper_summary_holds_what_the_paper_reports(trained, measured):
    summary = analysis.paper_protocol(trained, 3, k=4, epsilons_weights=(0.215, 1.0),
                                      epsilons_tau=(0.1, 2.0), trials=3, steps=3000, draws=3,
                                      repeats=6, accuracy_steps=500, progress=False)
    assert summary == measured.summary()  # seeded: the same numbers again
    raw = trained.tau.detach().double().numpy()
    assert summary["tau"] == pytest.approx({"mean": raw.mean(), "std": raw.std()})
    assert summary["tau_net"]["fraction_double"] == np.mean(measured.fit.model == 2)
    assert summary["dimensionality"] == measured.dimensionality.mean()
    assert summary["accuracy_best"] == measured.baseline.max() and summary["k"] == 4
    assert set(summary["ablation"]) == {"longest", "shortest", "random"}
    assert set(summary["perturbation"]["weights"]) == {0.215, 1.0}


def test_k_defaults_to_four_percent_of_the_neurons():
    torch.manual_seed(0)
    small = analysis.paper_protocol(LeakyRNN(50, (2,)), 2, trials=1, steps=200, draws=1,
                                    repeats=1, accuracy_steps=20, progress=False)
    assert small["k"] == 2


@pytest.mark.parametrize("kwargs, error, name", [
    ({"N": 4}, ValueError, "N=4"),
    ({"k": 26}, ValueError, "k=26"),
    ({"k": 0}, ValueError, "k=0"),
    ({"task": "xor"}, ValueError, "task"),
    ({"epsilons_weights": (-0.1,)}, ValueError, "epsilons_weights"),
    ({"epsilons_tau": 0.1}, ValueError, "epsilons_tau"),
    ({"steps": 30}, ValueError, "steps"),
    ({"trials": 0}, ValueError, "trials"),
    ({"variance": 1.5}, ValueError, "variance"),
])
def test_bad_arguments_fail_before_any_work(kwargs, error, name):
    model = LeakyRNN(25, (2, 3))
    with pytest.raises(error, match=name):
        analysis.paper_protocol(model, **{"N": 3, "progress": False, **kwargs})


# ---- the pieces, on known answers -----------------------------------------------------------------

def test_pooled_autocorrelation_weighs_trials_by_their_variance():
    rng = np.random.default_rng(0)
    fast, slow = np.zeros((2, 20_000)), rng.standard_normal((2, 20_000))
    for t in range(1, 20_000):  # trial 0: AR(1) with r = 0.9 (variance ×100); trial 1: r = 0
        fast[0, t] = 0.9 * fast[0, t - 1] + slow[0, t]
    act = np.stack([fast[0] * 10 / np.sqrt(1 / (1 - 0.81)), slow[1]])[..., None]
    pooled = analysis.autocorrelation(act, 3, average="pooled")[:, 0]
    per_trial = analysis.autocorrelation(act, 3, average="trials")[:, 0]
    np.testing.assert_allclose(pooled, 0.9 ** np.arange(4) * 100 / 101 + [1 / 101, 0, 0, 0], atol=0.02)
    np.testing.assert_allclose(per_trial, (0.9 ** np.arange(4) + [1, 0, 0, 0]) / 2, atol=0.02)
    np.testing.assert_allclose(pooled, twin_pooled_autocorrelation(act, 3)[:, 0], atol=1e-10)


@pytest.mark.parametrize("sizes", [[300], [1, 2, 3, 294], [7] * 42 + [6]])
def test_running_pooled_autocorrelation_equals_the_whole_recording(sizes):
    act = np.random.default_rng(5).standard_normal((3, 300, 4)).cumsum(axis=1) * [[[0.1]], [[1.0]], [[3.0]]]
    act[1, :, 2] = 3.0  # constant in one trial: it adds zeros
    running = analysis.RunningAutocorrelation(max_lag=20, average="pooled")
    for start, size in zip(np.cumsum([0] + sizes[:-1]), sizes):
        running.update(act[:, start:start + size])
    np.testing.assert_allclose(running.result(), twin_pooled_autocorrelation(act, 20), atol=1e-10)
    np.testing.assert_allclose(analysis.autocorrelation(act, 20, average="pooled"), running.result(),
                               atol=1e-10)
    with pytest.raises(ValueError, match="average"):
        analysis.RunningAutocorrelation(5, average="mean")


def test_paper_fit_of_known_autocorrelations():
    lags = np.arange(41.0)
    noisy = np.exp(-lags / 5) + 0.003 * np.random.default_rng(0).standard_normal(41)
    ac = np.stack([np.r_[1.0, noisy[1:]], 0.4 * np.exp(-lags / 2) + 0.6 * np.exp(-lags / 20),
                   np.full(41, np.nan), np.ones(41)], axis=1)
    fit = analysis.fit_timescales_paper(ac, fit_lag=30)
    np.testing.assert_array_equal(fit.model, [1, 2, 0, 1])
    np.testing.assert_allclose(fit.tau[:2], [5.0, 20.0], rtol=0.01)
    np.testing.assert_allclose(fit.double[1], [0.4, 2.0, 0.6, 20.0], rtol=1e-3)
    assert np.isnan(fit.tau[2]) and fit.tau[3] == pytest.approx(100.0)  # at the bound: kept
    np.testing.assert_allclose(fit.tau[[0, 1, 3]], twin_tau_net(ac[:, [0, 1, 3]], 30), rtol=1e-6)


def test_tau_net_summary_keeps_the_neurons_above_1():
    from agents.analysis.timescales import paper_tau_net_summary
    summary = paper_tau_net_summary(np.array([0.5, np.nan, 2.0, 4.0, 1.0]))
    assert summary == {"mean_above_1": 3.0, "std_above_1": 1.0}
    assert paper_tau_net_summary(np.array([np.nan, 0.3])) == {"mean_above_1": None, "std_above_1": None}


def test_paper_count_is_the_index_of_the_component_past_the_threshold():
    ratios = np.array([[0.5, 0.3, 0.15, 0.05], [0.95, 0.05, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(analysis.paper_count(ratios, 0.9), [2, 0, 0])
    act = np.random.default_rng(0).standard_normal((3, 500, 6)) * [4.0, 2.0, 1.0, 0.5, 0.2, 0.1]
    np.testing.assert_array_equal(analysis.trial_dimensionality(act), twin_dimensionality(act))
    assert analysis.trial_dimensionality(act[0])[0] + 1 == analysis.dimensionality(act[0])


def test_trial_covariance_streams_each_trials_spectrum():
    rng = np.random.default_rng(1)
    act = rng.standard_normal((2, 700, 5)) @ rng.standard_normal((5, 5)) + 50.0  # a large mean
    covariance = analysis.TrialCovariance()
    for start in range(0, 700, 128):
        covariance.update(act[:, start:start + 128])
    for trial, ratios in zip(act, covariance.explained_variance()):
        np.testing.assert_allclose(ratios, analysis.explained_variance(trial), atol=1e-5)


def test_paper_perturbation_moves_the_raw_tau_and_draws_over_the_whole_matrix():
    torch.manual_seed(0)
    model = LeakyRNN(6, (2,))
    with torch.no_grad():
        model.tau[:3] = 0.5  # below the clamp: the paper perturbs the raw value
    p = twin_parameters_from_model(model, 2)
    tau = analysis.perturb(model, "tau", 0.3, seed=4, paper=True)
    np.testing.assert_allclose(tau.tau.detach().numpy(), twin_perturbed(p, "tau", 0.3, 4)["tau"], rtol=1e-6)
    weights = analysis.perturb(model, "weights", 0.3, seed=4, paper=True)
    expected = twin_perturbed(p, "weights", 0.3, 4)["w_rec"] * (1 - np.eye(6))
    np.testing.assert_allclose(weights.recurrent.weight.detach().numpy(), expected, rtol=1e-5, atol=1e-7)
    assert torch.equal(model.tau[:3], torch.full((3,), 0.5))  # the original is untouched


def test_raw_timescales_are_the_parameter_and_single_ablations_one_network_each():
    torch.manual_seed(0)
    model = LeakyRNN(6, (2,))
    with torch.no_grad():
        model.tau[0] = 0.25
    assert analysis.raw_timescales(model)[0] == 0.25 and analysis.trained_timescales(model)[0] == 1.0
    scoring = {"steps": 50, "warmup": 5, "repeats": 3, "seed": 2}
    rows = analysis.single_ablations(model, [4, 1], "parity", 2, **scoring)
    for row, neuron in zip(rows, [4, 1]):
        np.testing.assert_array_equal(row, analysis.accuracy(analysis.ablate(model, [neuron]), "parity", 2, **scoring))


# ---- the authors' networks (slow) ----------------------------------------------------------------

@pytest.mark.slow  # 2–5 min each: 81 networks simulated twice, 1,000 fits twice
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_paper_protocol_agrees_with_the_twin_on_the_reference_networks(reference, name):
    path, heads = reference(name), REFERENCE[name]
    model = load_reference_checkpoint(path, heads)
    measured = analysis.measure_paper(model, 5, trials=4, steps=20_000, progress=False)
    assert measured.k == 20
    check_accuracies_against_twin(measured, twin_parameters_from_file(path, 5, heads))
    check_activity_against_twin(measured, model)


@pytest.mark.parametrize("make", [lambda: analysis.RunningAutocorrelation(3, average="pooled"),
                                  analysis.TrialCovariance])
def test_streamed_sums_refuse_chunks_of_another_shape(make):
    summed = make()
    summed.update(np.zeros((2, 5, 3), dtype=np.float32))
    for bad in (np.zeros((2, 5)), np.zeros((2, 0, 3)), np.zeros((3, 5, 3)), np.zeros((2, 5, 4))):
        with pytest.raises(ValueError, match=r"chunk of shape .* is not accepted"):
            summed.update(bad)
