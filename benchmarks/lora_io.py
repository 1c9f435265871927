"""Shared I/O for the benchmark references: a small safetensors reader that can
load one tensor at a time (byte-range reads, no mmap, so nothing stays
resident), PEFT tensor naming, module names, layer means and the output JSON.

Only the standard library and NumPy.  Used by naive_numpy.py and
lowrank_numpy.py; run_bench.py uses the JSON helpers.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys

import numpy as np

METRICS = ("l2", "cosine", "grassmann", "grassmann_b", "grassmann_a")
GRASSMANN_METRICS = ("grassmann", "grassmann_b", "grassmann_a")
PEFT_PREFIX = "base_model.model."

# safetensors dtype -> (numpy dtype of the stored bits, bytes per element)
_DTYPES = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),  # bfloat16 = upper 16 bits of an IEEE float32
}


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------


class TensorEntry:
    __slots__ = ("name", "dtype", "shape", "offset", "nbytes")

    def __init__(self, name, dtype, shape, offset, nbytes):
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.offset = offset  # absolute byte offset in the file
        self.nbytes = nbytes


def read_header(path: str) -> dict[str, TensorEntry]:
    """Parse the header only; return {name: TensorEntry} for float tensors."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}: too short for a safetensors file")
        (hlen,) = struct.unpack("<Q", raw)
        if 8 + hlen > size:
            raise ValueError(f"{path}: header length {hlen} exceeds the file size {size}")
        header = json.loads(fh.read(hlen).decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            continue  # not a float tensor: cannot be a LoRA factor
        shape = tuple(int(s) for s in info["shape"])
        start, end = (int(v) for v in info["data_offsets"])
        count = math.prod(shape)
        if end - start != count * _DTYPES[dtype][1] or base + end > size or start < 0:
            raise ValueError(f"{path}: {name}: bad data_offsets {start},{end}")
        out[name] = TensorEntry(name, dtype, shape, base + start, end - start)
    return out


def decode(buf, dtype: str) -> np.ndarray:
    """Stored bytes/bits -> float64 (flat)."""
    np_dtype, _ = _DTYPES[dtype]
    raw = np.frombuffer(buf, dtype=np_dtype)
    if dtype == "BF16":
        return (raw.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    return raw.astype(np.float64)


def read_tensor(fh, entry: TensorEntry) -> np.ndarray:
    """Read exactly one tensor's byte range from an open file, as float64."""
    # os.pread: no shared file position, so two threads may read one file at once
    fd = fh.fileno()
    parts, got = [], 0
    while got < entry.nbytes:
        chunk = os.pread(fd, entry.nbytes - got, entry.offset + got)
        if not chunk:
            raise ValueError(f"{entry.name}: truncated tensor data")
        parts.append(chunk)
        got += len(chunk)
    buf = parts[0] if len(parts) == 1 else b"".join(parts)
    return decode(buf, entry.dtype).reshape(entry.shape)


# --------------------------------------------------------------------------
# PEFT naming and scaling
# --------------------------------------------------------------------------


def parse_lora_name(name: str):
    """'base_model.model.<stack>.<k>.<in-layer path>.lora_A[.adapter].weight'
    -> (stack, layer, inlayer, 'lora_A'|'lora_B'), or None if not a LoRA factor
    inside a layer stack."""
    if name.startswith(PEFT_PREFIX):
        name = name[len(PEFT_PREFIX):]
    comps = name.split(".")
    layer_pos = next((i for i, c in enumerate(comps) if c.isascii() and c.isdigit()), None)
    which_pos = next((i for i, c in enumerate(comps) if c in ("lora_A", "lora_B")), None)
    if which_pos is None or layer_pos is None or layer_pos > which_pos:
        return None
    tail = comps[which_pos + 1:]
    if not tail or tail[-1] != "weight" or len(tail) > 2:
        return None
    inlayer = ".".join(comps[layer_pos + 1:which_pos])
    if not inlayer:
        return None
    return ".".join(comps[:layer_pos]), int(comps[layer_pos]), inlayer, comps[which_pos]


def scaling(config: dict | None) -> float:
    if config is None:
        return 1.0
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise SystemExit("benchmark references do not implement rank_pattern/alpha_pattern")
    r, alpha = float(config["r"]), float(config["lora_alpha"])
    return alpha / math.sqrt(r) if config.get("use_rslora", False) else alpha / r


class Adapter:
    """One adapter: its task name, weights path, scaling and the byte ranges of
    its factors, keyed by (stack, inlayer, layer)."""

    def __init__(self, path: str):
        path = os.path.normpath(path)
        if os.path.isdir(path):
            with open(os.path.join(path, "adapter_config.json"), encoding="utf-8") as fh:
                self.config = json.load(fh)
            self.weights = os.path.join(path, "adapter_model.safetensors")
            self.task = os.path.basename(path)
        else:
            self.config = None
            self.weights = path
            self.task = os.path.splitext(os.path.basename(path))[0]
        self.path = path
        self.scale = scaling(self.config)
        self.blocks: dict[tuple, dict[str, TensorEntry]] = {}
        for name, entry in read_header(self.weights).items():
            parsed = parse_lora_name(name)
            if parsed is None:
                continue
            stack, layer, inlayer, which = parsed
            slot = self.blocks.setdefault((stack, inlayer, layer), {})
            if which in slot:
                raise ValueError(f"{self.weights}: duplicate {which} for {stack}.{layer}.{inlayer}")
            slot[which] = entry
        for key in [k for k, v in self.blocks.items() if len(v) != 2]:
            print(f"warning: {self.weights}: {key} lacks lora_A or lora_B; ignored", file=sys.stderr)
            del self.blocks[key]
        self._fh = None

    def open(self):
        if self._fh is None:
            self._fh = open(self.weights, "rb", buffering=0)
        return self._fh

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def factors(self, key) -> tuple[np.ndarray, np.ndarray]:
        """(A r×d_in, B d_out×r) of one block as float64."""
        fh = self.open()
        ent = self.blocks[key]
        return read_tensor(fh, ent["lora_A"]), read_tensor(fh, ent["lora_B"])


def module_names(adapters: list[Adapter]) -> dict[tuple[str, str], str]:
    """(stack, inlayer) -> shortest dot-suffix no other in-layer path ends with."""
    stacks: dict[str, set[str]] = {}
    for ad in adapters:
        for stack, inlayer, _ in ad.blocks:
            stacks.setdefault(stack, set()).add(inlayer)
    if len(stacks) > 1:
        raise SystemExit(f"several layer stacks {sorted(stacks)}: not supported by the benchmark")
    names = {}
    for stack, paths in stacks.items():
        split = {p: p.split(".") for p in paths}
        for p, comps in split.items():
            names[(stack, p)] = p
            for k in range(1, len(comps) + 1):
                if not any(o != p and len(oc) >= k and oc[-k:] == comps[-k:] for o, oc in split.items()):
                    names[(stack, p)] = ".".join(comps[-k:])
                    break
    return names


def study_plan(paths: list[str]):
    """Load headers; return (adapters, tasks, modules, {module: [(layer, key)...]})."""
    adapters = [Adapter(p) for p in paths]
    tasks = [a.task for a in adapters]
    if len(set(tasks)) != len(tasks):
        raise SystemExit(f"duplicate task names: {tasks}")
    names = module_names(adapters)
    common = set(adapters[0].blocks)
    for ad in adapters[1:]:
        common &= set(ad.blocks)
    plan: dict[str, list] = {}
    for stack, inlayer, layer in common:
        plan.setdefault(names[(stack, inlayer)], []).append((layer, (stack, inlayer, layer)))
    for mod in plan:
        plan[mod].sort()
    return adapters, tasks, sorted(plan), plan


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------


def to_list(mat: np.ndarray) -> list:
    """N×N float array (NaN = undefined) -> list of rows with None."""
    return [[None if math.isnan(v) else float(v) for v in row] for row in mat.tolist()]


def layer_mean(layers: list[list[list]]) -> list[list]:
    """Element-wise mean over the layers where the value is defined."""
    n = len(layers[0])
    mean = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            vals = [m[i][j] for m in layers if m[i][j] is not None]
            if vals:
                total = 0.0
                for v in vals:
                    total += v
                mean[i][j] = total / len(vals)
    return mean


def layer_mean_array(layers: np.ndarray) -> np.ndarray:
    """[L, N, N] -> [N, N]: the mean over the layers where each value is defined (not NaN);
    NaN where none is.  The same values as layer_mean, in NumPy."""
    defined = ~np.isnan(layers)
    count = defined.sum(axis=0)
    total = np.where(defined, layers, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def write_arrays(out_path: str, tasks, modules, distances) -> None:
    """distances {metric: {module: (layer_ids, layers, mean)}} as one .npz (see lowrank_numpy)."""
    arrays = {"tasks": np.array(tasks), "modules": np.array(modules)}
    for metric, mods in distances.items():
        for mod, (layer_ids, layers, mean) in mods.items():
            arrays[f"{metric}/{mod}"] = layers
            arrays[f"{metric}/{mod}/mean"] = mean
            arrays[f"{metric}/{mod}/layer_ids"] = np.array(layer_ids)
    d = os.path.dirname(out_path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = out_path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out_path)


def write_result(out_path: str, tasks, modules, distances, generator: str) -> None:
    doc = {
        "generator": generator,
        "tasks": tasks,
        "modules": modules,
        "metrics": list(METRICS),
        "distances": distances,
    }
    d = os.path.dirname(out_path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, allow_nan=False)
        fh.write("\n")
    os.replace(tmp, out_path)


def run_cli(doc: str, run, generator: str, argv=None, arrays=False) -> int:
    """The command line both reference scripts share: DIR... --out FILE [--quiet]; with arrays
    (run takes as_arrays), an --out ending in .npz writes NumPy arrays (write_arrays)."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("adapters", nargs="+", metavar="DIR")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if arrays and args.out.endswith(".npz"):
        tasks, modules, distances = run(args.adapters, args.quiet, as_arrays=True)
        write_arrays(args.out, tasks, modules, distances)
        return 0
    tasks, modules, distances = run(args.adapters, args.quiet)
    write_result(args.out, tasks, modules, distances, generator)
    return 0
