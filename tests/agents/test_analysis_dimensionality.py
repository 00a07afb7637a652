import numpy as np
import pytest

from agents import analysis


@pytest.mark.parametrize("rank", [1, 3, 7])
def test_data_of_known_rank_needs_that_many_components(rank):
    rng = np.random.default_rng(rank)
    act = rng.standard_normal((2, 400, rank)) @ rng.standard_normal((rank, 20))
    ratio = analysis.explained_variance(act)
    assert ratio.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ratio[rank:], 0.0, atol=1e-12)
    assert analysis.dimensionality(act, variance=1.0) == rank
    assert analysis.dimensionality(act + 1e-6 * rng.standard_normal(act.shape), variance=0.999) == rank


def test_variance_fractions_follow_independent_axes():
    rng = np.random.default_rng(0)
    act = rng.standard_normal((200_000, 3)) * [3.0, 2.0, 1.0]
    np.testing.assert_allclose(analysis.explained_variance(act), np.array([9, 4, 1]) / 14, atol=0.01)
    assert analysis.dimensionality(act, 0.6) == 1
    assert analysis.dimensionality(act, 0.9) == 2
    assert analysis.dimensionality(np.ones((10, 4))) == 0


def test_dimensionality_rejects_bad_input():
    with pytest.raises(ValueError, match="variance"):
        analysis.dimensionality(np.zeros((5, 2)), variance=0.0)
    with pytest.raises(ValueError, match="act"):
        analysis.dimensionality(np.zeros(5))
