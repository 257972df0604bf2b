#!/usr/bin/python3
"""Generate test/fixtures/torch-gru.json: a PyTorch reference for onward's GRU.

What it computes
----------------
Two small cases, each a PyTorch ``nn.GRU`` (float64, batch_first=False, zero
initial hidden state) followed by an ``nn.Linear`` readout applied to the top
layer's output at every time step, run over T=7 steps with batch B=3:

* ``gru-2layer-ce``: nn.GRU(3, 5, num_layers=2) + nn.Linear(5, 4). The 4
  outputs are 2 groups of 2 logits (group g uses logits [2g, 2g+1]); the loss is
      L = (1/B) * sum_b sum_t mask[t,b] * sum_g -log_softmax(logits[t,b,g])[target[t,b,g]]
* ``gru-1layer-mse``: nn.GRU(3, 5) + nn.Linear(5, 2), with
      L = (1/B) * sum_b sum_t mask[t,b] * 0.5 * ||yhat[t,b] - y[t,b]||^2

For each case it records the parameters, inputs, targets, mask, L, and the
gradient of L with respect to every parameter (by autograd). Parameter names:
``layers.<i>.weight_ih`` / ``weight_hh`` / ``bias_ih`` / ``bias_hh`` (PyTorch's
``weight_ih_l<i>`` etc., same (r, z, n) row order) and ``readout.weight`` /
``readout.bias``; all tensors flattened row-major. Per-step arrays (x, target,
mask) are lists over t of batch-major flattened values.

As an independent check of the loss convention, the autograd gradient of one
parameter tensor per case is compared against central finite differences of L
(eps 1e-6, float64) for a handful of entries; the script aborts on mismatch.

Requirements and usage
----------------------
Needs PyTorch (Debian package python3-torch) and numpy. From the repo root:

    /usr/bin/python3 scripts/torch-gru-fixture.py

Output is deterministic (fixed torch seed) and overwrites
test/fixtures/torch-gru.json.
"""

import json
import os

import torch
import torch.nn.functional as F

T, B, IN, HIDDEN = 7, 3, 3, 5
SEED = 1234
FD_EPS = 1e-6
FD_RTOL = 1e-7

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "test", "fixtures", "torch-gru.json")


def make_mask():
    mask = torch.ones(T, B, dtype=torch.float64)
    mask[0:2, :] = 0.0   # first two steps masked out entirely
    mask[3, 1] = 0.0
    mask[5, 0] = 0.0
    mask[6, 2] = 0.0
    return mask


def compute_loss(gru, readout, x, target, mask, loss):
    """L as defined in the module docstring."""
    h0 = torch.zeros(gru.num_layers, B, gru.hidden_size, dtype=torch.float64)
    out, _ = gru(x, h0)                      # (T, B, hidden), top layer
    y = readout(out)                         # (T, B, o)
    if loss["kind"] == "ce":
        groups = y.shape[-1] // loss["classes"]
        logits = y.reshape(T, B, groups, loss["classes"])
        logp = F.log_softmax(logits, dim=-1)
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)   # (T, B, groups)
        per_step = nll.sum(dim=-1)
    else:
        per_step = 0.5 * ((y - target) ** 2).sum(dim=-1)            # (T, B)
    return (mask * per_step).sum() / B


def named_params(gru, readout):
    """Parameters under onward's names, in a fixed order."""
    out = {}
    for i in range(gru.num_layers):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            out[f"layers.{i}.{kind}"] = getattr(gru, f"{kind}_l{i}")
    out["readout.weight"] = readout.weight
    out["readout.bias"] = readout.bias
    return out


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def per_step(t):
    """(T, B, ...) -> list over t of batch-major flat lists."""
    return [t[i].reshape(-1).tolist() for i in range(t.shape[0])]


def fd_check(name, param, grad, loss_fn, n_entries=6):
    """Central finite differences of L vs. the autograd gradient for a few entries."""
    flat = param.data.view(-1)
    g = grad.reshape(-1)
    # Probe the entries with the largest |gradient|: for tiny gradients the
    # ~1e-10 absolute rounding error of the difference quotient would dominate.
    idx = sorted(torch.topk(g.abs(), n_entries).indices.tolist())
    worst = 0.0
    for j in idx:
        orig = flat[j].item()
        with torch.no_grad():
            flat[j] = orig + FD_EPS
            lp = loss_fn().item()
            flat[j] = orig - FD_EPS
            lm = loss_fn().item()
            flat[j] = orig
        fd = (lp - lm) / (2 * FD_EPS)
        ag = g[j].item()
        rel = abs(fd - ag) / max(abs(ag), abs(fd))
        worst = max(worst, rel)
        print(f"    {name}[{j}]: autograd {ag: .12e}  finite-diff {fd: .12e}  rel err {rel:.2e}")
        assert rel < FD_RTOL, f"finite-difference mismatch at {name}[{j}]: rel err {rel:.3e}"
    print(f"    OK: {len(idx)} entries of {name}, worst rel err {worst:.2e} (< {FD_RTOL:g})")


def build_case(name, layers, output_size, loss):
    gru = torch.nn.GRU(IN, HIDDEN, num_layers=layers, batch_first=False).double()
    readout = torch.nn.Linear(HIDDEN, output_size).double()
    x = torch.randn(T, B, IN, dtype=torch.float64)
    if loss["kind"] == "ce":
        groups = output_size // loss["classes"]
        target = torch.randint(0, loss["classes"], (T, B, groups))
    else:
        target = torch.randn(T, B, output_size, dtype=torch.float64)
    mask = make_mask()

    params = named_params(gru, readout)
    L = compute_loss(gru, readout, x, target, mask, loss)
    grads = dict(zip(params, torch.autograd.grad(L, list(params.values()))))

    print(f"{name}: L = {L.item():.17g}")
    fd_check("layers.0.weight_hh", params["layers.0.weight_hh"], grads["layers.0.weight_hh"],
             lambda: compute_loss(gru, readout, x, target, mask, loss))

    return {
        "name": name,
        "config": {"model": "gru", "inputSize": IN, "hidden": HIDDEN, "layers": layers,
                   "outputSize": output_size, "loss": loss},
        "params": {k: tensor_json(v) for k, v in params.items()},
        "x": per_step(x),
        "target": per_step(target),
        "mask": per_step(mask),
        "loss": L.item(),
        "grads": {k: tensor_json(v) for k, v in grads.items()},
    }


def main():
    torch.manual_seed(SEED)
    cases = [
        build_case("gru-2layer-ce", 2, 4, {"kind": "ce", "classes": 2}),
        build_case("gru-1layer-mse", 1, 2, {"kind": "mse"}),
    ]
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        json.dump({"generator": "scripts/torch-gru-fixture.py", "torch": torch.__version__,
                   "seed": SEED, "T": T, "B": B, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT_PATH)}")


if __name__ == "__main__":
    main()
