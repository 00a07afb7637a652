import numpy as np
import pytest
from scipy.signal import lfilter

from agents import analysis


def ar1(rng, tau, shape):
    """AR(1) along axis -2 with unit variance and autocorrelation exp(-k/tau)."""
    phi = np.exp(-1 / tau)
    noise = rng.standard_normal(shape) * np.sqrt(1 - phi ** 2)
    return lfilter([1], [1, -phi], noise, axis=-2)


def slow_autocorrelation(series, max_lag):
    """The definition, one lag at a time: mean-subtracted, divided by the number of pairs."""
    x = series - series.mean()
    steps = len(x)
    variance = np.dot(x, x) / steps
    return np.array([np.dot(x[:steps - k], x[k:]) / (steps - k) / variance
                     for k in range(max_lag + 1)])


def test_autocorrelation_agrees_with_direct_sums_for_every_shape():
    rng = np.random.default_rng(1)
    act = rng.standard_normal((3, 57, 4)).cumsum(axis=1)
    expected = np.stack([np.mean([slow_autocorrelation(act[i, :, u], 20) for i in range(3)], axis=0)
                         for u in range(4)], axis=1)
    np.testing.assert_allclose(analysis.autocorrelation(act, max_lag=20), expected, atol=1e-10)
    np.testing.assert_allclose(analysis.autocorrelation(act[0], max_lag=20),
                               np.stack([slow_autocorrelation(act[0, :, u], 20) for u in range(4)], 1),
                               atol=1e-10)
    single = analysis.autocorrelation(act[0, :, 2], max_lag=56)
    assert single.shape == (57,) and single[0] == pytest.approx(1.0)
    np.testing.assert_allclose(single, slow_autocorrelation(act[0, :, 2], 56), atol=1e-10)


def test_population_autocorrelation_is_that_of_the_mean_activity():
    rng = np.random.default_rng(2)
    act = rng.standard_normal((2, 80, 5))
    mean = act.mean(axis=-1)
    expected = np.mean([slow_autocorrelation(mean[i], 10) for i in range(2)], axis=0)
    np.testing.assert_allclose(analysis.population_autocorrelation(act, 10), expected, atol=1e-10)


def test_constant_neuron_is_nan_and_ignored_in_the_trial_where_it_is_constant():
    rng = np.random.default_rng(3)
    act = rng.standard_normal((2, 50, 2))
    act[:, :, 0] = 1.5
    act[0, :, 1] = 0.0
    ac = analysis.autocorrelation(act, max_lag=5)
    assert np.isnan(ac[:, 0]).all()
    np.testing.assert_allclose(ac[:, 1], slow_autocorrelation(act[1, :, 1], 5), atol=1e-10)


@pytest.mark.parametrize("act, max_lag, error, name", [
    (np.zeros((2, 3, 4, 5)), 1, ValueError, "act"),
    (np.zeros((0, 3)), 1, ValueError, "act"),
    (np.array([0.0, np.nan, 1.0]), 1, ValueError, "act"),
    (np.zeros(10), 10, ValueError, "max_lag"),
    (np.zeros(10), 2.5, TypeError, "max_lag"),
])
def test_autocorrelation_rejects_bad_input_naming_it(act, max_lag, error, name):
    with pytest.raises(error, match=name):
        analysis.autocorrelation(act, max_lag=max_lag)


def test_ar1_timescale_is_recovered_within_5_percent():
    act = ar1(np.random.default_rng(0), 5.0, (4, 100_000, 6))
    fit = analysis.fit_timescales(analysis.autocorrelation(act, max_lag=40), fit_lag=30)
    assert (fit.model == 1).all()
    np.testing.assert_allclose(fit.tau, 5.0, rtol=0.05)
    np.testing.assert_allclose(fit.single[:, 0], 1.0, atol=0.05)


def test_sum_of_two_ar1_picks_the_double_exponential_and_its_slow_timescale():
    rng = np.random.default_rng(0)
    act = ar1(rng, 2.0, (4, 100_000, 6)) + ar1(rng, 20.0, (4, 100_000, 6))
    fit = analysis.fit_timescales(analysis.autocorrelation(act, max_lag=40), fit_lag=30)
    assert (fit.model == 2).all()
    np.testing.assert_allclose(fit.tau, 20.0, rtol=0.10)
    np.testing.assert_allclose(fit.double[:, 1], 2.0, rtol=0.25)  # the fast one too, looser
    np.testing.assert_allclose(fit.double[:, [0, 2]], 0.5, atol=0.1)


def test_white_noise_has_no_timescale_to_speak_of():
    act = np.random.default_rng(4).standard_normal((4, 20_000, 30))
    fit = analysis.fit_timescales(analysis.autocorrelation(act, max_lag=30), fit_lag=30)
    assert np.all(np.isnan(fit.tau) | (fit.tau < 1.5))


def test_exact_exponentials_are_fitted_and_curve_reproduces_them():
    lags = np.arange(41.0)
    ac = np.stack([np.exp(-lags / 7.0), 0.6 * np.exp(-lags / 1.5) + 0.4 * np.exp(-lags / 12.0),
                   np.full(41, np.nan), np.ones(41)], axis=1)
    fit = analysis.fit_timescales(ac, fit_lag=30)
    np.testing.assert_array_equal(fit.model, [1, 2, 0, 0])
    np.testing.assert_allclose(fit.tau[:2], [7.0, 12.0], rtol=1e-4)
    assert np.isnan(fit.tau[2:]).all()  # no data; no decay within the fitted lags
    np.testing.assert_allclose(fit.curve(1, lags), ac[:, 1], atol=1e-6)
    assert np.isnan(fit.curve(2, lags)).all()


@pytest.mark.parametrize("kwargs, error, name", [
    ({"fit_lag": 3}, ValueError, "fit_lag"),
    ({"fit_lag": 41}, ValueError, "fit_lag"),
    ({"fit_lag": "30"}, TypeError, "fit_lag"),
    ({"min_amplitude": 1.0}, ValueError, "min_amplitude"),
])
def test_fit_timescales_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        analysis.fit_timescales(np.ones((41, 2)), **kwargs)
    with pytest.raises(ValueError, match="ac"):
        analysis.fit_timescales(np.ones((41, 2, 2)))


@pytest.mark.parametrize("sizes", [[300], [1, 2, 3, 294], [7] * 42 + [6], [1] * 300])
def test_running_autocorrelation_equals_the_whole_recording(sizes):
    rng = np.random.default_rng(5)
    act = rng.standard_normal((2, 300, 3)).cumsum(axis=1) * 0.1 + 2.0
    act[1, :, 2] = 3.0  # constant in one trial: ignored there, as in autocorrelation
    running = analysis.RunningAutocorrelation(max_lag=20)
    start = 0
    for size in sizes:
        running.update(act[:, start:start + size])
        start += size
    assert running.steps == 300
    np.testing.assert_allclose(running.result(), analysis.autocorrelation(act, max_lag=20), atol=1e-10)


def test_running_autocorrelation_rejects_mismatched_chunks_and_too_few_steps():
    running = analysis.RunningAutocorrelation(max_lag=5)
    running.update(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="chunk"):
        running.update(np.zeros((2, 4, 2)))
    with pytest.raises(ValueError, match="max_lag=5"):
        running.result()
    with pytest.raises(ValueError, match="max_lag"):
        analysis.RunningAutocorrelation(max_lag=-1)


def test_trained_timescales_come_from_the_model():
    import torch

    from agents import GRU, LeakyRNN

    leaky = LeakyRNN(6, (2,), tau=3.0)
    np.testing.assert_allclose(analysis.trained_timescales(leaky), 3.0)
    gru = GRU(5, (2,))
    inputs = torch.randint(0, 2, (40, 3, 1)).float()
    with torch.no_grad():
        gru(inputs)
        _, update = gru.forward_with_gates(inputs)
    np.testing.assert_allclose(analysis.trained_timescales(gru),
                               1 / (1 - update.mean(dim=(0, 1)).numpy()), rtol=1e-5)
    with pytest.raises(TypeError, match="timescales"):
        analysis.trained_timescales(torch.nn.Linear(2, 2))


def test_a_single_autocorrelation_gets_one_fit():
    fit = analysis.fit_timescales(np.exp(-np.arange(31.0) / 4.0), fit_lag=30)
    assert fit.tau.shape == fit.model.shape == (1,)
    assert fit.tau[0] == pytest.approx(4.0, rel=1e-4)
