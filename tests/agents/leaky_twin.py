"""The slow, obvious twin of LeakyRNN's fast loop, shared by the model's tests."""

import torch
from torch.nn import functional as F


def eager_leaky(model, inputs, h0, repeat=1):
    """The equations, one step and one layer at a time, straight from the model's parameters."""
    act = {"leaky_relu": lambda x: F.leaky_relu(x, 0.01), "relu": F.relu, "tanh": torch.tanh}[
        model.activation]
    scaled = model.tau * repeat
    tau = torch.where(scaled >= 1, scaled, torch.ones_like(scaled))  # clamp, no grad below 1
    sizes = list(model.layer_sizes)
    layers = [(model.input, model.recurrent)] + [(l.feedforward, l.recurrent) for l in model.stack]
    hs, taus = list(h0.split(sizes, dim=1)), tau.split(sizes)
    states = []
    for x in inputs:
        below = x  # layer 1 gets the input, layer l > 1 the state of layer l - 1 at this step
        for i, ((feed, rec), tau_i) in enumerate(zip(layers, taus)):
            w_rec = rec.weight * (1 - torch.eye(sizes[i], dtype=inputs.dtype))
            total = hs[i] @ w_rec.T + rec.bias + below @ feed.weight.T + feed.bias
            if model.leak == "inside":
                hs[i] = act((1 - 1 / tau_i) * hs[i] + total / tau_i)
            else:
                hs[i] = (1 - 1 / tau_i) * hs[i] + act(total) / tau_i
            below = hs[i]
        states.append(torch.cat(hs, dim=1))
    return torch.stack(states)
