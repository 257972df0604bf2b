#!/usr/bin/python3
"""Check that onward's safetensors exports load into PyTorch and compute the same outputs.

For each NAME given, the folder holds (written by test/model/interchange.test.ts, or by hand with onward):
    NAME.safetensors   `onward export` of an rnn, gru or lstm stack (PyTorch names: rnn.weight_ih_l0, ..., fc.weight)
    NAME.inputs.json   {"x": T x B x d}
    NAME.outputs.json  {"output": T x B x o}, what `onward predict` gives for x

The script reads the safetensors file with the standard library (the format is an 8-byte header length,
a JSON header and raw little-endian tensors; no `safetensors` package needed), builds
{rnn: nn.RNN | nn.GRU | nn.LSTM, fc: nn.Linear} from the metadata onward stores, loads the tensors with
load_state_dict(strict=True), runs the inputs in float64 and compares with onward's outputs.
It prints one JSON line per model and exits 1 when any differs by more than the tolerance (1e-6).

    /usr/bin/python3 scripts/torch-interop.py DIR gru lstm
Needs PyTorch (Debian package python3-torch).
"""
import json
import struct
import sys

import torch

TOLERANCE = 1e-6
DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = t.to(torch.float64)
    return tensors, meta


class Stack(torch.nn.Module):
    def __init__(self, kind, d, n, layers, o):
        super().__init__()
        cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
        self.rnn = cls(d, n, layers)  # nn.RNN: tanh, both biases, as onward's rnn
        self.fc = torch.nn.Linear(n, o)

    def forward(self, x):  # x: T x B x d
        h, _ = self.rnn(x)
        return self.fc(h)


def check(folder, name):
    tensors, meta = read_safetensors(f"{folder}/{name}.safetensors")
    config = json.loads(meta["onward.config"])
    model = Stack(config["model"], config["inputSize"], config["hidden"], config["layers"], config["outputSize"]).double()
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("masks.")}, strict=True)
    with open(f"{folder}/{name}.inputs.json") as f:
        x = torch.tensor(json.load(f)["x"], dtype=torch.float64)
    with open(f"{folder}/{name}.outputs.json") as f:
        expected = torch.tensor(json.load(f)["output"], dtype=torch.float64)
    with torch.no_grad():
        got = model(x)
    diff = (got - expected).abs().max().item()
    ok = got.shape == expected.shape and diff <= TOLERANCE
    print(json.dumps({"model": name, "kind": config["model"], "shape": list(got.shape), "maxAbsDiff": diff, "ok": ok}))
    return ok


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    results = [check(sys.argv[1], name) for name in sys.argv[2:]]
    sys.exit(0 if all(results) else 1)
