#!/usr/bin/env python3
"""Checks a folder written by `tvgeo merge` with PEFT itself (optional; needs torch and peft).

    python3 scripts/check_peft_merge.py OUT_DIR [--base-model NAME_OR_PATH]

OUT_DIR is one merged adapter folder (with tvgeo-merge.json) or an --all-pairs folder (with
manifest.json; every merge in it is checked). For each merge it

  * parses adapter_config.json with the installed PEFT (`PeftConfig.from_pretrained`: older
    releases refuse unknown keys) and reads the weights with `peft.utils.load_peft_weights`;
  * recomputes the merge from the host and partner recorded in tvgeo-merge.json (safetensors or
    PyTorch .bin; and warns when their SHA-256 no longer match):
      comb  lora_A, lora_B == (x_i + x_j) * 0.5 computed by torch in the host's dtype, bit for bit;
      cat   s'·B'·A' == (ΔW_i + ΔW_j) / 2, with s' from the written config by PEFT's rules; a module
            only one adapter adapts (origin "host only" / "partner only") == that adapter's ΔW;
      svd   s'·B'·A' == the best rank-r_i approximation of (ΔW_i + ΔW_j) / 2 (dense SVD), and the
            recorded truncation error;
  * checks that every other tensor is the host's, same dtype, bit for bit;
  * with --base-model, also loads the base model and `PeftModel.from_pretrained(model, OUT_DIR)`
    and compares every LoRA layer's weights and `scaling` with the file.

Prints one line per merge and exits 1 if anything differs. Without torch or peft it prints
"skipped" and exits 0: this check is never part of `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--base-model", help="also load this base model and the adapter with PeftModel.from_pretrained")
    args = parser.parse_args()
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        from safetensors.torch import load_file  # noqa: F401
    except ImportError as error:
        print(f"check_peft_merge: skipped: {error.name or error} is not installed (needs torch, peft and safetensors)")
        return 0

    folders = merge_folders(args.out_dir)
    failures = 0
    for folder in folders:
        problems = check_merge(folder, args.base_model)
        label = os.path.relpath(folder)
        if problems:
            failures += 1
            print(f"FAIL {label}")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"ok   {label}")
    print(f"{len(folders) - failures} of {len(folders)} merges agree with PEFT")
    return 1 if failures else 0


def load_raw(path: str) -> dict:
    """{tensor name: tensor} of a .safetensors file or a PyTorch checkpoint (.bin, .pt, .pth)."""
    if path.endswith((".bin", ".pt", ".pth")):
        import torch

        return torch.load(path, map_location="cpu", weights_only=True)
    from safetensors.torch import load_file

    return load_file(path)


def merge_folders(out_dir: str) -> list[str]:
    if os.path.exists(os.path.join(out_dir, "tvgeo-merge.json")):
        return [out_dir]
    manifest = os.path.join(out_dir, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as handle:
            return [os.path.join(out_dir, entry["folder"]) for entry in json.load(handle)["merges"]]
    sys.exit(f"check_peft_merge: {out_dir} holds neither tvgeo-merge.json nor manifest.json")


# --- PEFT's view of an adapter -------------------------------------------------------------------

LORA_NAME = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<factor>[AB])(?:\.[^.]+)?\.weight$")


def module_path(name: str) -> tuple[str, str] | None:
    """(module path, 'A' or 'B') of a LoRA tensor name, else None."""
    if "lora_embedding" in name:
        return None
    match = LORA_NAME.match(name)
    return (match["module"], match["factor"]) if match else None


def pattern_key(keys, path: str):
    """PEFT's rule: the first key equal to the path or matching `(.*\\.)?(key)$` from its start."""
    try:
        from peft.utils.other import get_pattern_key  # recent PEFT releases
        key = get_pattern_key(list(keys), path)
        return key if key in keys else None
    except (ImportError, TypeError):
        for key in keys:
            if key == path or re.match(rf"(.*\.)?({key})$", path):
                return key
        return None


def scaling(config, path: str) -> tuple[int, float]:
    """(rank, scaling) PEFT uses for the module at `path`; (None, 1.0) without a config."""
    if config is None:
        return None, 1.0
    rank_key = pattern_key(config.rank_pattern or {}, path)
    alpha_key = pattern_key(config.alpha_pattern or {}, path)
    rank = config.rank_pattern[rank_key] if rank_key is not None else config.r
    alpha = config.alpha_pattern[alpha_key] if alpha_key is not None else config.lora_alpha
    return rank, (alpha / math.sqrt(rank) if getattr(config, "use_rslora", False) else alpha / rank)


def load_adapter(path: str):
    """(config or None, {tensor name: tensor}) of a PEFT folder or a bare .safetensors file."""
    from peft import PeftConfig
    from peft.utils import load_peft_weights

    if os.path.isdir(path):
        return PeftConfig.from_pretrained(path), load_peft_weights(path, device="cpu")
    folder = os.path.dirname(path)
    if os.path.basename(path) in ("adapter_model.safetensors", "adapter_model.bin") and os.path.exists(
            os.path.join(folder, "adapter_config.json")):
        return PeftConfig.from_pretrained(folder), load_raw(path)
    return None, load_raw(path)


def deltas(config, tensors) -> dict:
    """{module path: s·B·A in float64}."""
    factors: dict = {}
    for name, tensor in tensors.items():
        parsed = module_path(name)
        if parsed:
            factors.setdefault(parsed[0], {})[parsed[1]] = tensor.double()
    return {path: scaling(config, path)[1] * (pair["B"] @ pair["A"]) for path, pair in factors.items()}


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- One merge -----------------------------------------------------------------------------------

def check_merge(folder: str, base_model: str | None) -> list[str]:
    import torch
    from safetensors.torch import load_file

    with open(os.path.join(folder, "tvgeo-merge.json")) as handle:
        record = json.load(handle)
    problems: list[str] = []
    method = record["method"]
    for side in ("host", "partner"):
        for file in record[side]["files"]:
            if not os.path.exists(file["path"]):
                return [f"{side} file {file['path']} is gone (paths are relative to where tvgeo ran)"]
            if sha256(file["path"]) != file["sha256"]:
                problems.append(f"warning: {file['path']} changed since the merge (SHA-256 differs)")
    try:
        config, merged = load_adapter(folder)
    except Exception as error:  # PEFT refusing the config is the finding
        return problems + [f"PEFT cannot load the folder: {error}"]
    raw = load_file(os.path.join(folder, "adapter_model.safetensors"))
    host_config, host = load_adapter(record["host"]["path"])
    partner_config, partner = load_adapter(record["partner"]["path"])

    host_raw = load_raw(record["host"]["files"][-1]["path"])
    # The host's names, plus (cat) the factors of modules only the partner adapts.
    added = {block[factor] for block in record["blocks"] if block.get("origin") == "partner only" for factor in ("lora_A", "lora_B")}
    if set(raw) != set(host_raw) | added:
        problems.append(f"tensor names differ from the host's: {sorted(set(raw) ^ (set(host_raw) | added))}")
    for name, tensor in host_raw.items():
        if name in raw and raw[name].dtype != tensor.dtype:
            problems.append(f"{name}: dtype {raw[name].dtype}, the host's is {tensor.dtype}")
        if name in raw and module_path(name) is None and not torch.equal(raw[name], tensor):
            problems.append(f"{name}: not the host's tensor")

    if method == "comb":
        for name, tensor in raw.items():
            if module_path(name) is None:
                continue
            dtype = host_raw[name].dtype
            other = partner_raw(partner, name)
            if other.dtype == dtype:
                # What a user's PyTorch merge computes: bit for bit.
                expected = (host_raw[name] + other) * 0.5
                if not torch.equal(tensor, expected):
                    difference = (tensor.double() - expected.double()).abs().max().item()
                    problems.append(f"{name}: differs from (x_i + x_j) * 0.5 in {dtype} (max difference {difference:.3g})")
            else:
                # Different dtypes: tvgeo rounds the exact sum, then the half, once each to the
                # host's dtype; torch's float64 → half conversions round through float32, so
                # allow one unit in the last place.
                expected = ((host_raw[name].double() + other.double()).to(dtype).double() * 0.5).to(dtype)
                ulp = {torch.float64: 2.0**-52, torch.float32: 2.0**-23, torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}[dtype]
                if ((tensor.double() - expected.double()).abs() > ulp * expected.double().abs()).any():
                    problems.append(f"{name}: differs from (x_i + x_j) / 2 rounded to {dtype} by more than one unit in the last place")
        return problems

    d_host, d_partner, d_merged = deltas(host_config, host), deltas(partner_config, partner), deltas(config, merged)
    errors = {block["module_path"]: block.get("truncation_error") for block in record["blocks"]}
    origins = {block["module_path"]: block.get("origin", "both") for block in record["blocks"]}
    for path, delta in sorted(d_merged.items()):
        if origins.get(path) in ("host only", "partner only"):
            average = d_host[path] if origins[path] == "host only" else d_partner[path]
        else:
            average = (d_host[path] + d_partner[path]) / 2
        scale = average.abs().max().item() or 1.0
        if method == "cat" or origins.get(path) != "both":
            target = average
        else:
            rank = scaling(host_config, path)[0]
            u, sigma, vh = torch.linalg.svd(average, full_matrices=False)
            target = u[:, :rank] @ torch.diag(sigma[:rank]) @ vh[:rank]
            error = (torch.linalg.norm(average - target) / torch.linalg.norm(average)).item()
            reported = errors.get(path)
            if reported is None or abs(reported - error) > 1e-6 * max(1.0, error):
                problems.append(f"{path}: truncation error {reported} recorded, {error:.9g} recomputed")
        tolerance = 1e-9 if all(t.dtype == torch.float64 for t in merged.values()) else 1e-2 if any(
            t.dtype in (torch.float16, torch.bfloat16) for t in merged.values()) else 1e-5
        difference = (delta - target).abs().max().item() / scale
        if difference > tolerance:
            problems.append(f"{path}: s'·B'·A' differs from the {method} target by {difference:.3g} (relative; tolerance {tolerance:g})")

    if base_model:
        problems += check_with_model(folder, base_model, config, raw)
    return problems


def partner_raw(partner, name):
    """The partner's tensor of the same name (adapter-name segments aside)."""
    if name in partner:
        return partner[name]
    target = module_path(name)
    for other, tensor in partner.items():
        if module_path(other) == target:
            return tensor
    raise KeyError(name)


def check_with_model(folder: str, base_model: str, config, raw) -> list[str]:
    import torch
    import transformers
    from peft import PeftModel

    kwargs = {}
    task = str(getattr(config, "task_type", "") or "")
    if task.endswith("SEQ_CLS"):
        heads = [t for n, t in raw.items() if module_path(n) is None and n.endswith("weight") and t.dim() == 2]
        if heads:
            # The adapter brings its own head (modules_to_save): a base saved with another label
            # count loads with a fresh head of this size.
            kwargs["num_labels"] = min(h.shape[0] for h in heads)
            kwargs["ignore_mismatched_sizes"] = True
        model = transformers.AutoModelForSequenceClassification.from_pretrained(base_model, **kwargs)
    elif task.endswith("CAUSAL_LM"):
        model = transformers.AutoModelForCausalLM.from_pretrained(base_model)
    else:
        model = transformers.AutoModel.from_pretrained(base_model)
    peft_model = PeftModel.from_pretrained(model, folder)
    problems = []
    checked = 0
    created = set()
    for name, module in peft_model.named_modules():
        if not hasattr(module, "lora_A") or "default" not in getattr(module, "lora_A", {}):
            continue
        path = name.removeprefix("base_model.model.")
        created.add(path)
        rank, expected_scaling = scaling(config, path)
        if abs(module.scaling["default"] - expected_scaling) > 1e-12:
            problems.append(f"{path}: PEFT scaling {module.scaling['default']}, expected {expected_scaling}")
        for factor in ("A", "B"):
            stored = [t for n, t in raw.items() if module_path(n) == (path, factor)]
            weight = getattr(module, f"lora_{factor}")["default"].weight.detach().cpu()
            if not stored or not torch.equal(weight.to(stored[0].dtype), stored[0]):
                problems.append(f"{path}: PEFT's lora_{factor} differs from the file")
        checked += 1
    if checked == 0:
        problems.append("PeftModel.from_pretrained created no LoRA layers")
    # Every LoRA module of the file must have become a LoRA layer (a module missing from
    # target_modules would be left out with no more than a warning).
    missing = sorted({parsed[0] for parsed in map(module_path, raw) if parsed} - created)
    if missing:
        problems.append(f"PEFT created no LoRA layer for {missing}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
