import pytest
import torch

from agents.models.heads import Heads
from memtasks.checks import check_heads


def test_readout_shape_and_order_match_each_head():
    torch.manual_seed(0)
    heads = Heads(5, (4, 2, 7))
    states = torch.randn(3, 6, 5)
    logits = heads(states)
    assert logits.shape == (3, 6, 3, 2)
    for k, n in enumerate((4, 2, 7)):
        lin = heads.linears[str(n)]
        torch.testing.assert_close(logits[..., k, :], states @ lin.weight.T + lin.bias)


def test_set_heads_keeps_staying_weights_creates_new_drops_rest():
    torch.manual_seed(0)
    heads = Heads(4, (2, 3))
    w2 = heads.linears["2"].weight.detach().clone()
    w3 = heads.linears["3"].weight
    new = heads.set_heads((3, 5, 2))
    assert heads.heads == (3, 5, 2)
    assert heads.linears["3"].weight is w3
    torch.testing.assert_close(heads.linears["2"].weight, w2)
    assert {id(p) for p in new} == {id(p) for p in heads.linears["5"].parameters()}
    heads.set_heads((5,))
    assert set(heads.linears.keys()) == {"5"}
    assert heads(torch.zeros(2, 4)).shape == (2, 1, 2)


def test_new_heads_follow_dtype():
    heads = Heads(3, (2,)).double()
    heads.set_heads((2, 3))
    assert heads.linears["3"].weight.dtype == torch.float64


@pytest.mark.parametrize("bad, error", [
    ((), ValueError), ([0], ValueError), ((2, 2), ValueError), ((2, -1), ValueError),
    ((2.5,), TypeError), ("2", TypeError), ((True,), TypeError), (None, TypeError),
])
def test_bad_heads_are_refused_naming_the_argument(bad, error):
    with pytest.raises(error, match="heads="):
        check_heads(bad, "heads")


def test_single_int_is_one_head():
    assert check_heads(3, "heads") == (3,)
