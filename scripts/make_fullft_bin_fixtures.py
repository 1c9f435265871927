#!/usr/bin/env python3
"""Writes tiny full fine-tuning checkpoints as both torch .bin (zip format) and safetensors into
Tests/Fixtures/bin/fullft/, so the Swift tests can check that `tvgeo analyze --base` reads a .bin
checkpoint exactly like its safetensors twin. Needs torch (PYTHONPATH=/tmp/peftenv or
`pip install "torch==2.13.0+cpu"`) and safetensors. Deterministic.
"""
import os
import sys

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "bin", "fullft")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(7)
    names = [f"bert.encoder.layer.{layer}.attention.self.{module}.weight" for layer in range(2) for module in ("query", "value")]
    base = {name: torch.randn(12, 12, generator=generator) for name in names}
    models = {"base": base}
    for task in ("task_a", "task_b", "task_c"):
        models[task] = {name: weight + 0.05 * torch.randn(12, 12, generator=generator) for name, weight in base.items()}
    for label, state in models.items():
        torch.save(state, os.path.join(OUT, f"{label}.bin"))
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(OUT, f"{label}.safetensors"), metadata={"format": "pt"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
