#!/usr/bin/env python3
"""Writes the small PyTorch `.bin` fixtures of TorchCheckpointTests into Tests/Fixtures/bin/.

Run with torch available (e.g. `PYTHONPATH=/tmp/peftenv python3 scripts/make_bin_fixtures.py`).
Every fixture is deterministic and a few KB. `expected.json` records, for each good fixture and
tensor, its dtype (safetensors spelling), shape and values (row-major, as float64), so the Swift
tests need no Python. The malicious fixture is only written, never loaded here.
"""
import json
import os
import shutil
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "bin")
DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16"}


def ramp(count, dtype=torch.float32, scale=0.25, shift=-1.0):
    return (torch.arange(count, dtype=torch.float64) * scale + shift).to(dtype)


class Pwn:
    """Pickles as a call of os.system: the reader must refuse the global and run nothing."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/tvgeo-pwned",))


def good_fixtures():
    base = ramp(12).reshape(3, 4)
    line = ramp(10, scale=0.5, shift=2.0)
    matrix = ramp(20, scale=1.5, shift=-7.0).reshape(4, 5)
    yield "shared", {"weight": base, "row": base[1], "again": base}
    yield "transposed", {"t": ramp(12, scale=0.125).reshape(3, 4).t(), "plain": ramp(3)}
    yield "offset", {"slice": line[3:8], "block": matrix[1:3, 2:5]}
    yield "f16", {"h": ramp(6, torch.float16, scale=0.375).reshape(2, 3)}
    yield "bf16", {"b": ramp(6, torch.bfloat16, scale=0.5).reshape(3, 2)}
    yield "f64", {"d": (ramp(8, torch.float64, scale=0.1, shift=0.3) / 3).reshape(2, 4), "scalar": torch.tensor(2.5, dtype=torch.float64)}
    # A module's state dict: an OrderedDict carrying `_metadata` (set by BUILD).
    linear = torch.nn.Linear(3, 2)
    with torch.no_grad():
        linear.weight.copy_(ramp(6, scale=0.75).reshape(2, 3))
        linear.bias.copy_(ramp(2, scale=2.0))
    yield "module", linear.state_dict()
    # Parameters pickle through torch._utils._rebuild_parameter.
    yield "parameter", {"p": torch.nn.Parameter(ramp(4, scale=0.5).reshape(2, 2))}


# Written with pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
PROTOCOL_4 = {"proto4": {"x": ramp(6, scale=0.625).reshape(3, 2).t(), "y": ramp(3, torch.float64)}}


def main():
    os.makedirs(ROOT, exist_ok=True)
    expected = {}
    for name, state, protocol in [(*item, 2) for item in good_fixtures()] + [(*item, 4) for item in PROTOCOL_4.items()]:
        torch.save(state, os.path.join(ROOT, name + ".bin"), pickle_protocol=protocol)
        expected[name] = {
            key: {
                "dtype": DTYPE_NAMES[tensor.dtype],
                "shape": list(tensor.shape),
                "values": [float(v) for v in tensor.detach().to(torch.float64).reshape(-1).tolist()],
            }
            for key, tensor in state.items()
        }
    with open(os.path.join(ROOT, "expected.json"), "w") as out:
        json.dump(expected, out, indent=1, sort_keys=True)
        out.write("\n")

    torch.save({"x": Pwn()}, os.path.join(ROOT, "malicious.bin"))
    with open(os.path.join(ROOT, "shared.bin"), "rb") as source:
        whole = source.read()
    with open(os.path.join(ROOT, "truncated.bin"), "wb") as out:
        out.write(whole[: len(whole) // 2])
    torch.save({"weight": ramp(4)}, os.path.join(ROOT, "legacy.bin"), _use_new_zipfile_serialization=False)
    print("wrote fixtures to", os.path.normpath(ROOT), "with torch", torch.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
