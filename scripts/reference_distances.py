#!/usr/bin/env python3
"""Independent NumPy/SciPy reference implementation of tvgeo's LoRA task-vector
distances.  It writes "golden" JSON files that the Swift test-suite compares
against.

Usage (run from the repository root so recorded paths are repo-relative):

    python3 scripts/reference_distances.py --out Tests/Fixtures/golden/X.json \
        [name=]PATH [name=]PATH ...

PATH is a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)
or a bare ``.safetensors`` file (scaling 1).  The task name is the folder name /
file stem unless given as ``name=PATH``.

Everything here is deliberately naive: ΔW = s·B·A is materialised densely and
every entry (i, j) of every N×N matrix is computed by its own call, including
the lower triangle.  No clever factorised maths -- this is the slow, obvious
version a researcher would write, so it can serve as an oracle.

Only the standard library, numpy and scipy are used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
from dataclasses import dataclass, field

import numpy as np
import scipy
import scipy.linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_prediction import comb_matrices  # noqa: E402

SCHEMA = "tvgeo.golden/1"
METRICS = ("l2", "cosine", "grassmann", "grassmann_b", "grassmann_a", "comb_shift", "comb_error")
COMB_METRICS = ("comb_shift", "comb_error")
GRASSMANN_METRICS = ("grassmann", "grassmann_b", "grassmann_a")
PEFT_PREFIX = "base_model.model."

# --------------------------------------------------------------------------
# safetensors reader (own implementation of the documented format)
# --------------------------------------------------------------------------

_DTYPES = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),  # decoded by hand below
}


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Return {name: float64 ndarray} for every floating tensor in the file."""
    with open(path, "rb") as fh:
        blob = fh.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise ValueError(f"{path}: header length {header_len} exceeds file size")
    header = json.loads(blob[8 : 8 + header_len].decode("utf-8"))
    data = memoryview(blob)[8 + header_len :]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        shape = [int(s) for s in info["shape"]]
        start, end = (int(v) for v in info["data_offsets"])
        if not (0 <= start <= end <= len(data)):
            raise ValueError(f"{path}: {name}: offsets {start},{end} outside data section")
        if dtype not in _DTYPES:
            # Non-float tensors cannot be LoRA factors; skip them.
            continue
        np_dtype, itemsize = _DTYPES[dtype]
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * itemsize:
            raise ValueError(f"{path}: {name}: byte length does not match shape/dtype")
        raw = np.frombuffer(data[start:end], dtype=np_dtype, count=count)
        if dtype == "BF16":
            # bfloat16 is the upper half of an IEEE float32.
            arr = (raw.astype(np.uint32) << np.uint32(16)).view("<f4").astype(np.float64)
        else:
            arr = raw.astype(np.float64)
        out[name] = arr.reshape(shape)
    return out


# --------------------------------------------------------------------------
# adapter loading / naming / scaling
# --------------------------------------------------------------------------


@dataclass
class Factor:
    full_path: str  # e.g. bert.encoder.layer.3.attention.self.query
    stack: str  # e.g. bert.encoder.layer
    layer: int
    inlayer: str  # e.g. attention.self.query
    A: np.ndarray | None = None  # r × d_in
    B: np.ndarray | None = None  # d_out × r
    scale: float = 1.0


@dataclass
class Adapter:
    task: str
    path: str
    config: dict | None
    blocks: dict = field(default_factory=dict)  # (stack, inlayer, layer) -> Factor


def parse_lora_name(name: str):
    """Split a tensor name into (stack, layer, inlayer, which) or None."""
    if name.startswith(PEFT_PREFIX):
        name = name[len(PEFT_PREFIX) :]
    comps = name.split(".")
    layer_pos = None
    for i, c in enumerate(comps):
        if c.isdigit() and c.isascii():
            layer_pos = i
            break
    which_pos = None
    for i, c in enumerate(comps):
        if c in ("lora_A", "lora_B"):
            which_pos = i
            break
    if which_pos is None:
        return None  # not a LoRA factor (classifier head, modules_to_save, ...)
    if layer_pos is None or layer_pos > which_pos:
        return None  # LoRA factor outside a layer stack: not analysed
    # what follows lora_A/lora_B must be an optional adapter name + "weight"
    tail = comps[which_pos + 1 :]
    if not tail or tail[-1] != "weight" or len(tail) > 2:
        return None
    stack = ".".join(comps[:layer_pos])
    inlayer = ".".join(comps[layer_pos + 1 : which_pos])
    if not inlayer:
        return None
    return stack, int(comps[layer_pos]), inlayer, comps[which_pos]


def pattern_lookup(pattern: dict, path: str):
    """PEFT-style key match: first key with path == key or (.*\\.)?(key) fullmatch."""
    for key, value in (pattern or {}).items():
        if path == key or re.fullmatch(rf"(.*\.)?({key})", path):
            return value
    return None


def scaling_for(config: dict | None, full_path: str) -> float:
    if config is None:
        return 1.0
    r = pattern_lookup(config.get("rank_pattern"), full_path)
    if r is None:
        r = config["r"]
    alpha = pattern_lookup(config.get("alpha_pattern"), full_path)
    if alpha is None:
        alpha = config["lora_alpha"]
    if config.get("use_rslora", False):
        return float(alpha) / math.sqrt(float(r))
    return float(alpha) / float(r)


def load_adapter(task: str, path: str) -> Adapter:
    if os.path.isdir(path):
        with open(os.path.join(path, "adapter_config.json"), "r", encoding="utf-8") as fh:
            config = json.load(fh)
        st_path = os.path.join(path, "adapter_model.safetensors")
    else:
        config = None
        st_path = path
    tensors = read_safetensors(st_path)
    ad = Adapter(task=task, path=path, config=config)
    for name, arr in tensors.items():
        parsed = parse_lora_name(name)
        if parsed is None:
            continue
        stack, layer, inlayer, which = parsed
        key = (stack, inlayer, layer)
        full_path = f"{stack}.{layer}.{inlayer}" if stack else f"{layer}.{inlayer}"
        fac = ad.blocks.setdefault(
            key, Factor(full_path=full_path, stack=stack, layer=layer, inlayer=inlayer)
        )
        if arr.ndim != 2:
            raise ValueError(f"{path}: {name}: LoRA factor must be 2-D, got {arr.shape}")
        if which == "lora_A":
            if fac.A is not None:
                raise ValueError(f"{path}: duplicate lora_A for {full_path}")
            fac.A = arr
        else:
            if fac.B is not None:
                raise ValueError(f"{path}: duplicate lora_B for {full_path}")
            fac.B = arr
    for key, fac in list(ad.blocks.items()):
        if fac.A is None or fac.B is None:
            print(f"warning: {path}: {fac.full_path} lacks lora_A or lora_B; ignored",
                  file=sys.stderr)
            del ad.blocks[key]
            continue
        if fac.B.shape[1] != fac.A.shape[0]:
            raise ValueError(f"{path}: {fac.full_path}: B {fac.B.shape} and A {fac.A.shape} ranks differ")
        fac.scale = scaling_for(config, fac.full_path)
    return ad


def module_names(adapters: list[Adapter]) -> dict[tuple[str, str], str]:
    """(stack, inlayer) -> display name, by the shortest-unique-suffix rule."""
    paths_by_stack: dict[str, set[str]] = {}
    for ad in adapters:
        for stack, inlayer, _layer in ad.blocks:
            paths_by_stack.setdefault(stack, set()).add(inlayer)
    if len(paths_by_stack) > 1:
        raise SystemExit(
            "reference_distances.py: several layer stacks in one study "
            f"({sorted(paths_by_stack)}); the reference does not implement stack prefixes"
        )
    names = {}
    for stack, paths in paths_by_stack.items():
        split = {p: p.split(".") for p in paths}
        for p, comps in split.items():
            chosen = p
            for k in range(1, len(comps) + 1):
                suffix = comps[-k:]
                clash = any(
                    other != p and len(oc) >= k and oc[-k:] == suffix
                    for other, oc in split.items()
                )
                if not clash:
                    chosen = ".".join(suffix)
                    break
            names[(stack, p)] = chosen
    return names


# --------------------------------------------------------------------------
# distances (naive, dense)
# --------------------------------------------------------------------------


def delta_w(fac: Factor) -> np.ndarray:
    return fac.scale * (fac.B @ fac.A)


def numerical_rank(M: np.ndarray) -> int:
    """Rank by scipy.linalg.orth's rule (number of columns it returns)."""
    return int(scipy.linalg.orth(M).shape[1])


def grassmann_distance(X: np.ndarray, Y: np.ndarray) -> float:
    theta = scipy.linalg.subspace_angles(X, Y)
    return float(math.sqrt(float(np.sum(theta * theta))))


def subspace_inputs(fac: Factor):
    """The three matrices whose column spaces the grassmann metrics compare."""
    return {
        "grassmann": delta_w(fac),
        "grassmann_b": fac.B,
        "grassmann_a": fac.A.T,
    }


def block_matrices(facs: list[Factor]):
    """All five N×N matrices for one (module, layer) block, plus ranks."""
    n = len(facs)
    dws = [delta_w(f) for f in facs]
    subs = [subspace_inputs(f) for f in facs]
    ranks = {g: [numerical_rank(s[g]) for s in subs] for g in GRASSMANN_METRICS}
    norms = [float(np.linalg.norm(w)) for w in dws]
    out = {m: [[None] * n for _ in range(n)] for m in METRICS}
    for i in range(n):
        for j in range(n):
            # l2
            out["l2"][i][j] = 0.0 if i == j else float(np.linalg.norm(dws[i] - dws[j]))
            # cosine distance
            if norms[i] == 0.0 or norms[j] == 0.0:
                out["cosine"][i][j] = None
            elif i == j:
                out["cosine"][i][j] = 0.0
            else:
                dot = float(np.sum(dws[i] * dws[j]))
                c = 1.0 - dot / (norms[i] * norms[j])
                out["cosine"][i][j] = float(min(max(c, 0.0), 2.0))
            # grassmann variants
            for g in GRASSMANN_METRICS:
                if ranks[g][i] == 0 or ranks[g][j] == 0:
                    out[g][i][j] = None
                elif i == j:
                    out[g][i][j] = 0.0
                else:
                    out[g][i][j] = grassmann_distance(subs[i][g], subs[j][g])
    # Comb's own error (asymmetric, row = host), from dense matrices in reference_prediction.py.
    out.update(comb_matrices(facs))
    return out, ranks


def mean_of_layers(mats: list[list[list]]):
    n = len(mats[0])
    mean = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            vals = [m[i][j] for m in mats if m[i][j] is not None]
            if vals:
                total = 0.0
                for v in vals:
                    total += v
                mean[i][j] = total / len(vals)
    return mean


def run_study(specs: list[tuple[str, str]], progress=True) -> dict:
    adapters = [load_adapter(task, path) for task, path in specs]
    tasks = [a.task for a in adapters]
    if len(set(tasks)) != len(tasks):
        raise SystemExit(f"duplicate task names: {tasks}")
    names = module_names(adapters)

    # analysed blocks: held by at least two adapters (tvgeo's rule); an adapter without a block
    # has null distances, norms and ranks there
    holders: dict[tuple, list[int]] = {}
    for index, ad in enumerate(adapters):
        for key in ad.blocks:
            holders.setdefault(key, []).append(index)
    common = {key for key, held in holders.items() if len(held) >= 2 or len(adapters) == 1}
    by_module: dict[str, list[tuple[tuple, int]]] = {}
    for stack, inlayer, layer in common:
        by_module.setdefault(names[(stack, inlayer)], []).append(((stack, inlayer, layer), layer))
    modules = sorted(by_module)

    distances = {m: {} for m in METRICS}
    ranks_out: dict = {}
    for mod in modules:
        blocks = sorted(by_module[mod], key=lambda kv: kv[1])
        layer_ids = [layer for _key, layer in blocks]
        if len(set(layer_ids)) != len(layer_ids):
            raise SystemExit(f"module {mod}: duplicate layer ids {layer_ids}")
        per_layer = {m: [] for m in METRICS}
        rank_lists = {t: {g: [] for g in GRASSMANN_METRICS} for t in tasks}
        for key, layer in blocks:
            if progress:
                print(f"  {mod} layer {layer}", file=sys.stderr, flush=True)
            held = holders[key]
            facs = [adapters[i].blocks[key] for i in held]
            sub, sub_ranks = block_matrices(facs)
            n = len(adapters)
            mats = {m: [[None] * n for _ in range(n)] for m in METRICS}
            for m in METRICS:
                for a, i in enumerate(held):
                    for b, j in enumerate(held):
                        mats[m][i][j] = sub[m][a][b]
                per_layer[m].append(mats[m])
            for ti, t in enumerate(tasks):
                for g in GRASSMANN_METRICS:
                    rank_lists[t][g].append(sub_ranks[g][held.index(ti)] if ti in held else None)
        for m in METRICS:
            distances[m][mod] = {
                "layer_ids": layer_ids,
                "layers": per_layer[m],
                "mean": mean_of_layers(per_layer[m]),
            }
        ranks_out[mod] = rank_lists

    return {
        "schema": SCHEMA,
        "generator": f"scripts/reference_distances.py (numpy {np.__version__}, scipy {scipy.__version__})",
        "inputs": [{"task": t, "path": p} for t, p in specs],
        "tasks": tasks,
        "modules": modules,
        "distances": distances,
        "ranks": ranks_out,
    }


def parse_spec(arg: str) -> tuple[str, str]:
    if "=" in arg:
        name, path = arg.split("=", 1)
        if name and not os.path.exists(arg):
            return name, path
    path = arg
    base = os.path.basename(os.path.normpath(path))
    if os.path.isdir(path):
        return base, path
    stem, _ext = os.path.splitext(base)
    return stem, path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="golden JSON file to write")
    ap.add_argument("--quiet", action="store_true", help="no per-block progress on stderr")
    ap.add_argument("adapters", nargs="+", metavar="[name=]PATH")
    args = ap.parse_args(argv)
    specs = [parse_spec(a) for a in args.adapters]
    golden = run_study(specs, progress=not args.quiet)
    out_dir = os.path.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(golden, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {args.out}: {len(golden['tasks'])} tasks, modules {golden['modules']}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
