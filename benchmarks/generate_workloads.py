#!/usr/bin/env python3
"""Generate the synthetic LoRA workloads the benchmark runs on.

    python3 benchmarks/generate_workloads.py --workload seed|wide|library [--out DIR]
                                             [--adapters N] [--layers L] [--force]

Writes N PEFT adapter folders DIR/task00, DIR/task01, ... (adapter_config.json +
adapter_model.safetensors).  Default DIR: benchmarks/workloads/<name>/, or
benchmarks/workloads/<name>-n<N>-l<L>/ when --adapters/--layers shrink it (for
quick iteration).  A stamp file DIR/.workload.json records the parameters;
when it matches, nothing is regenerated.

Workloads
  seed  10 adapters, 12 layers, d = 768,  r = 8,  RoBERTa query/value,         F32,  lora_alpha 16
  wide  64 adapters, 32 layers, d = 4096, r = 16, LLaMA q/k/v/o_proj, BF16 (RNE), lora_alpha 32  (~2.1 GB)
  library  500 adapters (--adapters N for the scaling table), otherwise as seed but with 8 task groups
        (1.2 MB per adapter).  Task names keep the taskNN scheme (two digits at least, no further padding):
        from 101 adapters on, text order and natural order differ (task10, task100, task11 as text), so
        the large-N outputs exercise the natural sort of task names.

Factor model, per (module, layer) block and for each side (B's columns, A's rows):
the r directions of task t are
  n_s shared directions   S + tau_t * noise      (common to all tasks, drifting per task)
  n_g group directions    G_g(t) + tau_t * noise (common to the tasks of a group)
  n_p private directions  P_t                    (random, task-specific)
with per-task, per-direction magnitudes m (one task has its shared part negated,
so some cosine distances exceed 1), mixed by a random r×r rotation Q_t (LoRA's
gauge freedom): B_t = basisB_t · diag(±sqrt m) · Q_t · c_B and
A_t = Q_tᵀ · diag(sqrt m) · basisA_tᵀ · c_A, so ΔW_t = s · c_B c_A · basisB diag(±m) basisAᵀ.
task01 is task00 plus 1e-3 relative Gaussian noise on both factors (a
neighbouring checkpoint); for BF16 the noise is added before rounding.

Deterministic: every block draws from its own numpy Generator seeded by
(SEED, workload, module, layer), so the output does not depend on write order.
(Float32 BLAS products can differ in the last bit between machines/BLAS builds.)
Memory stays small: one block of all adapters (~50 MB for wide) is in memory,
and each tensor is appended to its adapter's file as soon as it is made.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import sys
import time

import numpy as np

SEED = 20250321
GENERATOR_VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.join(HERE, "workloads")

WORKLOADS = {
    "seed": {
        "id": 1, "adapters": 10, "layers": 12, "d": 768, "r": 8, "lora_alpha": 16,
        "dtype": "F32", "modules": ["query", "value"], "naming": "roberta", "groups": 3,
        "split": [3, 2, 3],  # shared, group, private directions (sum = r)
        "base_model": "FacebookAI/roberta-base", "task_type": "SEQ_CLS",
    },
    "wide": {
        "id": 2, "adapters": 64, "layers": 32, "d": 4096, "r": 16, "lora_alpha": 32,
        "dtype": "BF16", "modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "naming": "llama",
        "groups": 4, "split": [6, 4, 6],
        "base_model": "meta-llama/Llama-2-7b-hf", "task_type": "CAUSAL_LM",
    },
    # A library of adapters for one base model (issue 16): the seed shapes at any N (--adapters),
    # with more task groups so that clusterings have something to find.
    "library": {
        "id": 4, "adapters": 500, "layers": 12, "d": 768, "r": 8, "lora_alpha": 16,
        "dtype": "F32", "modules": ["query", "value"], "naming": "roberta", "groups": 8,
        "split": [3, 2, 3],
        "base_model": "FacebookAI/roberta-base", "task_type": "SEQ_CLS",
    },
    # Two 2.1 GB adapters: tvgeo's memory must stay at the blocks in flight (issue: hostile inputs).
    "big": {
        "id": 3, "adapters": 2, "layers": 32, "d": 4096, "r": 512, "lora_alpha": 1024,
        "dtype": "F32", "modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "naming": "llama",
        "groups": 1, "split": [192, 128, 192],
        "base_model": "meta-llama/Llama-2-7b-hf", "task_type": "CAUSAL_LM",
    },
}
NEAR_DUP_NOISE = 1e-3


def tensor_name(params: dict, layer: int, module: str, which: str) -> str:
    if params["naming"] == "roberta":
        base = f"base_model.model.roberta.encoder.layer.{layer}.attention.self.{module}"
    else:
        base = f"base_model.model.model.layers.{layer}.self_attn.{module}"
    return f"{base}.{which}.weight"


def workload_params(name: str, adapters: int | None, layers: int | None) -> dict:
    p = dict(WORKLOADS[name])
    p["workload"] = name
    if adapters is not None:
        if adapters < 2:
            raise SystemExit("--adapters must be at least 2")
        p["adapters"] = adapters
    if layers is not None:
        if layers < 1:
            raise SystemExit("--layers must be at least 1")
        p["layers"] = layers
    return p


def default_dir(name: str, adapters: int | None = None, layers: int | None = None) -> str:
    full = WORKLOADS[name]
    n = full["adapters"] if adapters is None else adapters
    L = full["layers"] if layers is None else layers
    if n == full["adapters"] and L == full["layers"]:
        return os.path.join(DEFAULT_ROOT, name)
    return os.path.join(DEFAULT_ROOT, f"{name}-n{n}-l{L}")


def task_dirs(out: str, n: int) -> list[str]:
    return [os.path.join(out, f"task{t:02d}") for t in range(n)]


# --------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------


def bf16_bits(x32: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns, round to nearest, ties to even."""
    bits = np.ascontiguousarray(x32, dtype=np.float32).view(np.uint32)
    lsb = (bits >> np.uint32(16)) & np.uint32(1)
    return ((bits + np.uint32(0x7FFF) + lsb) >> np.uint32(16)).astype(np.uint16)


def encode(x32: np.ndarray, dtype: str) -> bytes:
    if dtype == "F32":
        return np.ascontiguousarray(x32, dtype="<f4").tobytes()
    if dtype == "BF16":
        return bf16_bits(x32).astype("<u2").tobytes()
    raise ValueError(dtype)


ITEMSIZE = {"F32": 4, "BF16": 2}


# --------------------------------------------------------------------------
# factor model
# --------------------------------------------------------------------------


def task_traits(p: dict) -> dict:
    """Per-task parameters, fixed for the whole workload."""
    rng = np.random.default_rng([SEED, p["id"], 0])
    n, G = p["adapters"], p["groups"]
    group = np.arange(n) % G
    group[:2] = 0  # task00 and task01 (the near-duplicate) share a group
    tau = rng.uniform(0.05, 0.6, n)            # drift of shared/group directions
    w_shared = rng.uniform(0.5, 1.5, n)
    w_group = rng.uniform(0.3, 1.0, n)
    w_private = rng.uniform(0.2, 1.2, n)
    shared_sign = np.where(np.arange(n) % 7 == 6, -1.0, 1.0)  # task06, task13, ...: flipped
    group_sign = rng.choice([-1.0, 1.0], G)
    return dict(group=group, tau=tau, w_shared=w_shared, w_group=w_group,
                w_private=w_private, shared_sign=shared_sign, group_sign=group_sign)


def side_basis(rng, p, traits, d: int) -> np.ndarray:
    """(N, d, r) float32: each task's r directions (columns), ~unit norm."""
    n = p["adapters"]
    ns, ng, npv = p["split"]
    f32 = np.float32
    scale = f32(1.0 / np.sqrt(d))
    S = rng.standard_normal((d, ns), dtype=f32)
    Gr = rng.standard_normal((p["groups"], d, ng), dtype=f32)
    basis = np.empty((n, d, ns + ng + npv), dtype=f32)
    basis[:, :, ns + ng:] = rng.standard_normal((n, d, npv), dtype=f32)
    drift = rng.standard_normal((n, d, ns + ng), dtype=f32)
    drift *= traits["tau"].astype(f32)[:, None, None]
    basis[:, :, :ns] = S[None] + drift[:, :, :ns]
    basis[:, :, ns:ns + ng] = Gr[traits["group"]] + drift[:, :, ns:]
    basis *= scale
    return basis


def block_factors(p: dict, traits: dict, mod_idx: int, layer: int):
    """(A (N, r, d) float32, B (N, d, r) float32) for one (module, layer) block."""
    rng = np.random.default_rng([SEED, p["id"], 1 + mod_idx, layer])
    n, r, d = p["adapters"], p["r"], p["d"]
    ns, ng, npv = p["split"]
    basisB = side_basis(rng, p, traits, d)
    basisA = side_basis(rng, p, traits, d)
    m = np.concatenate([
        np.repeat(traits["w_shared"][:, None], ns, 1),
        np.repeat(traits["w_group"][:, None], ng, 1),
        np.repeat(traits["w_private"][:, None], npv, 1)], axis=1)
    m = m * rng.uniform(0.7, 1.3, (n, r))
    sign = np.concatenate([
        np.repeat(traits["shared_sign"][:, None], ns, 1),
        np.repeat(traits["group_sign"][traits["group"]][:, None], ng, 1),
        np.ones((n, npv))], axis=1)
    Q, _ = np.linalg.qr(rng.standard_normal((n, r, r)))
    sq = np.sqrt(m)
    mixB = ((sign * sq)[:, :, None] * Q).astype(np.float32) * np.float32(0.1)   # diag(±√m)·Q·c_B
    mixA = (np.swapaxes(Q, 1, 2) * sq[:, None, :]).astype(np.float32)          # Qᵀ·diag(√m)·c_A
    B = np.matmul(basisB, mixB)                                # (N, d, r)
    A = np.matmul(mixA, np.swapaxes(basisA, 1, 2))             # (N, r, d)
    del basisA, basisB
    # task01: neighbouring checkpoint of task00
    for X in (A, B):
        rms = float(np.sqrt(np.mean(np.square(X[0], dtype=np.float64))))
        X[1] = X[0] + rng.standard_normal(X[0].shape, dtype=np.float32) * np.float32(NEAR_DUP_NOISE * rms)
    return A, B


def adapter_config(p: dict) -> dict:
    return {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": p["base_model"],
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": p["lora_alpha"],
        "lora_dropout": 0.05,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": p["r"],
        "rank_pattern": {},
        "revision": None,
        "target_modules": list(p["modules"]),
        "task_type": p["task_type"],
        "use_dora": False,
        "use_rslora": False,
    }


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def layout(p: dict):
    """Sorted tensor list [(name, (mod_idx, layer), which, shape)] and header bytes."""
    r, d = p["r"], p["d"]
    entries = []
    for mi, mod in enumerate(p["modules"]):
        for layer in range(p["layers"]):
            entries.append((tensor_name(p, layer, mod, "lora_A"), (mi, layer), "A", [r, d]))
            entries.append((tensor_name(p, layer, mod, "lora_B"), (mi, layer), "B", [d, r]))
    entries.sort(key=lambda e: e[0])
    header = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, _blk, _w, shape in entries:
        nbytes = shape[0] * shape[1] * ITEMSIZE[p["dtype"]]
        header[name] = {"dtype": p["dtype"], "shape": shape, "data_offsets": [off, off + nbytes]}
        off += nbytes
    hbytes = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    return entries, struct.pack("<Q", len(hbytes)) + hbytes, off


def stamp_of(p: dict) -> dict:
    return {"generator": "benchmarks/generate_workloads.py", "version": GENERATOR_VERSION,
            "seed": SEED, "near_dup_noise": NEAR_DUP_NOISE, "params": p}


def is_current(out: str, p: dict) -> bool:
    path = os.path.join(out, ".workload.json")
    try:
        with open(path, encoding="utf-8") as fh:
            if json.load(fh) != json.loads(json.dumps(stamp_of(p))):
                return False
    except (OSError, ValueError):
        return False
    _, header, data_len = layout(p)
    for td in task_dirs(out, p["adapters"]):
        st = os.path.join(td, "adapter_model.safetensors")
        if not os.path.isfile(os.path.join(td, "adapter_config.json")) or not os.path.isfile(st):
            return False
        if os.path.getsize(st) != len(header) + data_len:
            return False
    return True


def generate(p: dict, out: str, quiet=False) -> None:
    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    stamp = os.path.join(out, ".workload.json")
    if os.path.exists(stamp):
        os.remove(stamp)
    # remove task folders of an earlier generation (only ours: taskNN)
    for entry in os.listdir(out):
        if re.fullmatch(r"task\d+", entry) and os.path.isdir(os.path.join(out, entry)):
            shutil.rmtree(os.path.join(out, entry))
    dirs = task_dirs(out, p["adapters"])
    config = adapter_config(p)
    entries, header, data_len = layout(p)
    traits = task_traits(p)
    files = []
    try:
        for td in dirs:
            os.makedirs(td)
            with open(os.path.join(td, "adapter_config.json"), "w", encoding="utf-8") as fh:
                json.dump(config, fh, indent=2, sort_keys=True)
                fh.write("\n")
            fh = open(os.path.join(td, "adapter_model.safetensors"), "wb")
            files.append(fh)
            fh.write(header)
        current, cur_key = None, None
        nblocks = len(p["modules"]) * p["layers"]
        done = 0
        for _name, blk, which, _shape in entries:
            if blk != cur_key:
                current = block_factors(p, traits, *blk)
                cur_key = blk
                done += 1
                if not quiet and (done % 16 == 0 or done == nblocks):
                    print(f"  {p['workload']}: block {done}/{nblocks}", file=sys.stderr, flush=True)
            arr = current[0] if which == "A" else current[1]
            for t, fh in enumerate(files):
                fh.write(encode(arr[t], p["dtype"]))
    finally:
        for fh in files:
            fh.close()
    expect = len(header) + data_len
    for td in dirs:
        size = os.path.getsize(os.path.join(td, "adapter_model.safetensors"))
        if size != expect:
            raise SystemExit(f"{td}: wrote {size} bytes, expected {expect}")
    with open(stamp, "w", encoding="utf-8") as fh:
        json.dump(stamp_of(p), fh, indent=1)
        fh.write("\n")
    if not quiet:
        total = expect * p["adapters"] / 1e6
        print(f"wrote {p['adapters']} adapters to {out} ({total:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)


def ensure(name: str, out: str | None = None, adapters=None, layers=None,
           force=False, quiet=False) -> list[str]:
    """Generate the workload unless an identical one exists; return its task folders."""
    p = workload_params(name, adapters, layers)
    out = out or default_dir(name, adapters, layers)
    if not force and is_current(out, p):
        if not quiet:
            print(f"{out}: up to date ({p['adapters']} adapters), not regenerated", file=sys.stderr)
    else:
        generate(p, out, quiet=quiet)
    return task_dirs(out, p["adapters"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--out", help="output folder (default benchmarks/workloads/<name>[-n<N>-l<L>])")
    ap.add_argument("--adapters", type=int, help="override the number of adapters (quick runs)")
    ap.add_argument("--layers", type=int, help="override the number of layers (quick runs)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the stamp matches")
    args = ap.parse_args(argv)
    ensure(args.workload, args.out, args.adapters, args.layers, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
