#!/usr/bin/env python3
"""Deterministically generate the small synthetic PEFT LoRA adapters used by the
tvgeo tests (Tests/Fixtures/synthetic/).

    python3 scripts/make_synthetic_adapters.py [--out Tests/Fixtures/synthetic]

Roberta-like naming, hidden size d = 48, layers 0..2, target modules
attention.self.{query,value}, plus an (ignored) classifier head tensor.
Factors are built from directions shared by all tasks plus task-private random
directions, so pairwise distances are neither all equal nor degenerate.

Re-running produces byte-identical files (numpy default_rng, fixed seed; the
safetensors writer below is deterministic).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import numpy as np

SEED = 20240607
D = 48
LAYERS = (0, 1, 2)
MODULES = ("query", "value")
N_SHARED = 6  # shared directions per (module, layer), for both B and A
PREFIX = "base_model.model.roberta.encoder.layer"

# --------------------------------------------------------------------------
# safetensors writer
# --------------------------------------------------------------------------


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float64 -> bfloat16 bit patterns (uint16), round-to-nearest-even via float32."""
    f32 = np.ascontiguousarray(x, dtype=np.float32)
    bits = f32.view(np.uint32).astype(np.uint64)
    if np.any(~np.isfinite(f32)):
        raise ValueError("non-finite value in BF16 tensor")
    lsb = (bits >> 16) & 1
    rounded = (bits + 0x7FFF + lsb) >> 16
    return rounded.astype(np.uint16)


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)


def quantize(x: np.ndarray, dtype: str) -> np.ndarray:
    """The float64 value a tensor will have after a round trip through `dtype`."""
    if dtype == "F64":
        return np.asarray(x, dtype=np.float64)
    if dtype == "F32":
        return np.asarray(x, dtype=np.float32).astype(np.float64)
    if dtype == "F16":
        h = np.asarray(x, dtype=np.float16)
        if not np.all(np.isfinite(h)):
            raise ValueError("F16 overflow")
        return h.astype(np.float64)
    if dtype == "BF16":
        return from_bf16_bits(to_bf16_bits(x))
    raise ValueError(dtype)


def encode(x: np.ndarray, dtype: str) -> bytes:
    if dtype == "F64":
        return np.ascontiguousarray(x, dtype="<f8").tobytes()
    if dtype == "F32":
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(x, dtype="<f2").tobytes()
    if dtype == "BF16":
        return np.ascontiguousarray(to_bf16_bits(x), dtype="<u2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path: str, tensors: dict[str, tuple[np.ndarray, str]]) -> None:
    """Write {name: (array, dtype)} the way the official library lays files out:
    compact JSON header with ``__metadata__`` first and tensor names sorted,
    data offsets contiguous from 0 in header order, header space-padded to a
    multiple of 8 bytes."""
    header: dict = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr, dtype = tensors[name]
        data = encode(arr, dtype)
        header[name] = {
            "dtype": dtype,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        chunks.append(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hbytes)))
        fh.write(hbytes)
        for c in chunks:
            fh.write(c)


def adapter_config(r: int, alpha, target_modules, use_rslora=False,
                   rank_pattern=None, alpha_pattern=None) -> dict:
    """A config shaped like the one PEFT's save_pretrained writes."""
    return {
        "alpha_pattern": alpha_pattern or {},
        "auto_mapping": None,
        "base_model_name_or_path": "synthetic/tiny-roberta",
        "bias": "none",
        "eva_config": None,
        "exclude_modules": None,
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "loftq_config": {},
        "lora_alpha": alpha,
        "lora_bias": False,
        "lora_dropout": 0.1,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": ["classifier"],
        "peft_type": "LORA",
        "r": r,
        "rank_pattern": rank_pattern or {},
        "revision": None,
        "target_modules": list(target_modules),
        "task_type": "SEQ_CLS",
        "use_dora": False,
        "use_rslora": use_rslora,
    }


# --------------------------------------------------------------------------
# factor generation
# --------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        # directions shared by every task, per (module, layer)
        self.shared_B = {}
        self.shared_A = {}
        for m in MODULES:
            for layer in LAYERS:
                self.shared_B[(m, layer)] = self.rng.standard_normal((D, N_SHARED)) / np.sqrt(D)
                self.shared_A[(m, layer)] = self.rng.standard_normal((N_SHARED, D)) / np.sqrt(D)

    def factors(self, m: str, layer: int, r: int, private: float, b_rank: int | None = None):
        """(A, B) with A r×D, B D×r.  `private` weights the task-private part."""
        rng = self.rng
        SB, SA = self.shared_B[(m, layer)], self.shared_A[(m, layer)]
        # A: mix of the shared row directions + private rows (full row rank)
        A = rng.standard_normal((r, N_SHARED)) @ SA / np.sqrt(N_SHARED)
        A = A + private * rng.standard_normal((r, D)) / np.sqrt(D)
        k = r if b_rank is None else b_rank
        Bk = SB @ rng.standard_normal((N_SHARED, k)) / np.sqrt(N_SHARED)
        Bk = Bk + private * rng.standard_normal((D, k)) / np.sqrt(D)
        if b_rank is None:
            B = Bk
        else:
            B = Bk @ rng.standard_normal((k, r)) / np.sqrt(k)
        # B magnitudes ~0.05-0.3, A ~0.1-0.3: well inside F16/BF16 normal range
        return A * 1.5, B * 0.8


def lora_tensors(facs: dict, dtype: str) -> dict:
    """facs: {(module, layer): (A, B)} -> safetensors dict with PEFT names."""
    out = {}
    for (m, layer), (A, B) in facs.items():
        base = f"{PREFIX}.{layer}.attention.self.{m}"
        out[f"{base}.lora_A.weight"] = (A, dtype)
        out[f"{base}.lora_B.weight"] = (B, dtype)
    return out


def write_adapter(root: str, name: str, config: dict, tensors: dict) -> None:
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "adapter_config.json"), "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="Tests/Fixtures/synthetic")
    args = ap.parse_args(argv)
    root = args.out
    os.makedirs(root, exist_ok=True)
    g = Generator(SEED)

    def classifier(dtype):
        return {"base_model.model.classifier.dense.weight":
                (g.rng.standard_normal((D, D)) * 0.02, dtype)}

    def make(r, private, modules=MODULES, b_rank=None, rank_of=None):
        facs = {}
        for m in modules:
            for layer in LAYERS:
                rr = rank_of(m) if rank_of else r
                facs[(m, layer)] = g.factors(m, layer, rr, private, b_rank=b_rank)
        return facs

    # t_r8: r=8 alpha=16, F32
    r8 = make(8, private=0.6)
    t = lora_tensors(r8, "F32")
    t.update(classifier("F32"))
    write_adapter(root, "t_r8", adapter_config(8, 16, MODULES), t)

    # t_r4: r=4 alpha=8, F64
    t = lora_tensors(make(4, private=0.9), "F64")
    t.update(classifier("F64"))
    write_adapter(root, "t_r4", adapter_config(4, 8, MODULES), t)

    # t_r16_rslora: r=16 alpha=16 rsLoRA, F16
    t = lora_tensors(make(16, private=0.4), "F16")
    t.update(classifier("F16"))
    write_adapter(root, "t_r16_rslora", adapter_config(16, 16, MODULES, use_rslora=True), t)

    # t_bf16_patterns: r=8 alpha=16, value rank 4, layer-1 query alpha 32, BF16
    t = lora_tensors(make(8, private=0.7, rank_of=lambda m: 4 if m == "value" else 8), "BF16")
    t.update(classifier("BF16"))
    write_adapter(root, "t_bf16_patterns",
                  adapter_config(8, 16, MODULES, rank_pattern={"value": 4},
                                 alpha_pattern={"layer.1.attention.self.query": 32}), t)

    # t_near: t_r8 (as stored in F32) + relative 1e-7 perturbation, F64
    near = {}
    for key, (A, B) in r8.items():
        A32, B32 = quantize(A, "F32"), quantize(B, "F32")
        dA = g.rng.standard_normal(A.shape) * (1e-7 * np.sqrt(np.mean(A32 ** 2)))
        dB = g.rng.standard_normal(B.shape) * (1e-7 * np.sqrt(np.mean(B32 ** 2)))
        near[key] = (A32 + dA, B32 + dB)
    t = lora_tensors(near, "F64")
    t.update(classifier("F64"))
    write_adapter(root, "t_near", adapter_config(8, 16, MODULES), t)

    # t_zero_b: r=8, B = 0 (freshly initialised adapter), F32
    zb = {k: (A, np.zeros_like(B)) for k, (A, B) in make(8, private=0.6).items()}
    t = lora_tensors(zb, "F32")
    t.update(classifier("F32"))
    write_adapter(root, "t_zero_b", adapter_config(8, 16, MODULES), t)

    # t_query_only: r=8, query only, F32
    t = lora_tensors(make(8, private=0.5, modules=("query",)), "F32")
    t.update(classifier("F32"))
    write_adapter(root, "t_query_only", adapter_config(8, 16, ("query",)), t)

    # t_rankdef: r=8, B = (48×3)(3×8) has rank 3, A full rank, F64
    t = lora_tensors(make(8, private=0.6, b_rank=3), "F64")
    t.update(classifier("F64"))
    write_adapter(root, "t_rankdef", adapter_config(8, 16, MODULES), t)

    # bare_r8.safetensors: LoRA tensors only, no config (scaling 1), F32
    write_safetensors(os.path.join(root, "bare_r8.safetensors"),
                      lora_tensors(make(8, private=0.8), "F32"))

    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    print(f"wrote synthetic adapters to {root} ({total} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
