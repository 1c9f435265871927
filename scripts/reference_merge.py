#!/usr/bin/env python3
"""Dense NumPy reference for `tvgeo merge --method cat` and `--method svd` of two adapters.

    python3 scripts/reference_merge.py --out GOLDEN.json [name=]ADAPTER_I [name=]ADAPTER_J

The adapters are read with reference_distances.py's own safetensors reader and PEFT scaling rules
(s = lora_alpha / r, rank_pattern / alpha_pattern, rsLoRA); everything else is NumPy only, in float64,
and never uses tvgeo. For every block (module and layer) both adapters adapt, with ΔW = s·B·A dense:

  average           ½(ΔW_i + ΔW_j): what `cat` writes, in either order (B′·A′ at scaling 1);
  singular_values   numpy.linalg.svd of the average, those above max(d_out, d_in)·ε·σ_1 (NumPy's
                    matrix_rank rule: the rest are rounding noise), for the truncation gaps;
  svd[host]         for each adapter as the host, at its rank r of that block: the rank-r truncation
                    U_r·diag(σ_r)·V_rᵀ of the average (Eckart–Young; unique when σ_r > σ_r+1, which
                    `gap` records as (σ_r − σ_r+1)/σ_1), and the truncation error
                    √(Σ_{m>r} σ_m²)/√(Σ σ_m²) (null when the average is 0).

Matrices are row-major lists of rows, d_out × d_in as ΔW is applied; floats are written with repr.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_distances import load_adapter, parse_spec  # noqa: E402


def delta(factor) -> np.ndarray:
    return factor.scale * (factor.B @ factor.A)


def golden(specs: list[tuple[str, str]]) -> dict:
    adapters = [load_adapter(task, path) for task, path in specs]
    keys = [set(adapter.blocks) for adapter in adapters]
    if keys[0] != keys[1]:
        raise SystemExit("reference_merge.py: the two adapters adapt different blocks; this reference covers shared blocks only")
    blocks = []
    for key in sorted(keys[0], key=lambda k: (k[0], k[1], k[2])):
        factors = [adapter.blocks[key] for adapter in adapters]
        average = (delta(factors[0]) + delta(factors[1])) / 2
        u, sigma, vt = np.linalg.svd(average, full_matrices=False)
        total = float(np.sqrt(np.sum(sigma**2)))
        svd = {}
        for adapter, factor in zip(adapters, factors):
            rank = int(factor.A.shape[0])
            truncated = (u[:, :rank] * sigma[:rank]) @ vt[:rank]
            tail = float(np.sqrt(np.sum(sigma[rank:] ** 2)))
            gap = float((sigma[rank - 1] - sigma[rank]) / sigma[0]) if rank < len(sigma) and sigma[0] > 0 else None
            svd[adapter.task] = {
                "rank": rank,
                "truncation_error": tail / total if total > 0 else None,
                "gap": gap,
                "delta": truncated.tolist(),
            }
        blocks.append({
            "module_path": factors[0].full_path,
            "layer": factors[0].layer,
            "shape": list(average.shape),
            "scalings": {adapter.task: factor.scale for adapter, factor in zip(adapters, factors)},
            "singular_values": [float(v) for v in sigma if v > max(average.shape) * np.finfo(np.float64).eps * sigma[0]],
            "average": average.tolist(),
            "svd": svd,
        })
    return {
        "schema": "tvgeo.merge-golden/1",
        "generator": f"scripts/reference_merge.py (numpy {np.__version__})",
        "inputs": [{"task": task, "path": path} for task, path in specs],
        "blocks": blocks,
    }


def dumps(value, indent: int = 0) -> str:
    """JSON with one matrix row per line (the goldens are diffed and read by people)."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        return pad + "[\n" + ",\n".join(dumps(v, indent + 1) for v in value) + "\n" + pad + "]"
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite value")
    return pad + json.dumps(value, allow_nan=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("adapters", nargs=2, metavar="[name=]ADAPTER")
    args = parser.parse_args()
    document = golden([parse_spec(spec) for spec in args.adapters])
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(dumps(document) + "\n")
    for block in document["blocks"]:
        for task, entry in block["svd"].items():
            print(f"{block['module_path']} host {task}: rank {entry['rank']}, truncation error {entry['truncation_error']:.6g}, "
                  f"gap (σ_r − σ_r+1)/σ_1 {entry['gap']:.3g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
