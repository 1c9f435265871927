#!/usr/bin/env python3
"""Checks folders written by `tvgeo merge` with PEFT itself (needs torch, peft and safetensors).

    python3 scripts/check_peft_merge.py OUT_DIR... [--peft-reference] [--base-model NAME_OR_PATH] [--require]

Each OUT_DIR is one merged adapter folder (with tvgeo-merge.json) or an --all-pairs folder (with
manifest.json; every merge it lists is checked). For each merge it

  * parses adapter_config.json with the installed PEFT (`PeftConfig.from_pretrained`: older
    releases refuse unknown keys) and reads the weights with `peft.utils.load_peft_weights`;
  * checks that every block (module and layer) is there: the blocks of the file, of
    tvgeo-merge.json and of the inputs (both adapters' for comb and svd, their union for cat) agree;
  * recomputes the merge from the host and partner recorded in tvgeo-merge.json (safetensors or
    PyTorch .bin; and warns when their SHA-256 no longer match):
      comb  lora_A, lora_B == (x_i + x_j) * 0.5 computed by torch in the host's dtype, bit for bit;
      cat   s'·B'·A' == (ΔW_i + ΔW_j) / 2, with s' from the written config by PEFT's rules; a module
            only one adapter adapts (origin "host only" / "partner only") == that adapter's ΔW;
      svd   s'·B'·A' == the best rank-r_i approximation of (ΔW_i + ΔW_j) / 2 (dense SVD), and the
            recorded truncation error;
  * checks that every other tensor is the host's, same dtype, bit for bit;
  * with --peft-reference (what `make check-peft` runs), builds a randomly initialised model of the
    adapters' architecture (BERT: hidden size, layers and head size read from the tensors; its weights
    do not matter, only the LoRA layers are compared) and
      - loads the merged folder with `PeftModel.from_pretrained`: every LoRA layer's factors and
        scaling equal the file, every file module became a LoRA layer, and
        `get_peft_model_state_dict` gives the file's tensors back, heads included, bit for bit;
      - loads the host and the partner into a second such model (`PeftModel.from_pretrained` and
        `load_adapter`, without `modules_to_save`: `add_weighted_adapter` refuses two adapters that
        both save the head, and heads are not merged) and merges them with PEFT's own
        `add_weighted_adapter`, then compares ΔW = s·B·A of every block with the merged folder's:
          cat   combination_type="cat", weights [0.5, 0.5]: PEFT concatenates weight·s·A and B, so
                its ΔW is ½ΔW_i + ½ΔW_j (a module only one adapter adapts: ½ of its ΔW, which tvgeo
                keeps whole, so tvgeo's is compared with twice PEFT's);
          svd   combination_type="svd", weights [0.5, 0.5], svd_rank = the merged rank (no clamp):
                PEFT's rank-r SVD truncation of ½ΔW_i + ½ΔW_j, computed in the model's dtype;
          comb  combination_type="linear", weights [0.25, 0.25]: PEFT multiplies each factor by
                √(weight·s), so its ΔW is ¼·s·(B_i + B_j)(A_i + A_j), tvgeo's s·½(B_i + B_j)·½(A_i + A_j);
                and the factors PEFT loaded from the folder == (x_i + x_j) * 0.5 of the factors PEFT
                loaded from the two adapters, bit for bit;
        to 1e-5 relative (of the largest |ΔW| entry) for float32 models (the float32 SVD's subspace
        error is about 6e-8·σ_1/(σ_r − σ_r+1), up to 4.1e-6 on the example), 1e-9 for float64, 1e-2 for
        16-bit;
  * with --base-model, also loads the given base model and `PeftModel.from_pretrained(model, OUT_DIR)`
    and compares every LoRA layer's weights and `scaling` with the file.

Prints one line per merge and exits 1 if anything differs. Without torch, peft or safetensors (and
transformers, for --peft-reference) it prints "skipped" and exits 0, unless --require is given or the
environment variable CI is set (as CI sets it): then a missing package fails with exit 1.
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
    parser.add_argument("out_dirs", nargs="+", metavar="OUT_DIR")
    parser.add_argument("--base-model", help="also load this base model and the adapter with PeftModel.from_pretrained")
    parser.add_argument("--peft-reference", action="store_true",
                        help="also load every merge into a random model and compare with PEFT's add_weighted_adapter")
    parser.add_argument("--require", action="store_true", help="fail (exit 1) when torch or peft is missing (implied by CI)")
    args = parser.parse_args()
    require = args.require or os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    # Nothing here may reach a model hub: every model is built locally or given as a path.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        from safetensors.torch import load_file  # noqa: F401
        if args.peft_reference or args.base_model:
            import transformers  # noqa: F401
    except ImportError as error:
        missing = error.name or error
        if require:
            print(f"check_peft_merge: FAILED: {missing} is not installed (needs torch, peft, safetensors and transformers; "
                  "required under CI and with --require)")
            return 1
        print(f"check_peft_merge: skipped: {missing} is not installed (needs torch, peft and safetensors)")
        return 0
    import warnings

    # Matrices of a few hundred rows: more threads only cost, and OpenMP's waiting threads spin for
    # a core (on a loaded 2-core machine one folder took 69 s with two threads, 9 s with one).
    torch.set_num_threads(1)
    # transformers' deprecation notices about its own internals say nothing about the merges.
    warnings.filterwarnings("ignore", category=FutureWarning)
    versions = f"torch {torch.__version__}, peft {peft.__version__}"
    if args.peft_reference or args.base_model:
        versions += f", transformers {transformers.__version__}"
    print(f"check_peft_merge: {versions}")

    folders = [folder for out_dir in args.out_dirs for folder in merge_folders(out_dir)]
    failures = 0
    for folder in folders:
        notes: list[str] = []
        problems = check_merge(folder, args.base_model, args.peft_reference, notes)
        label = os.path.relpath(folder)
        if problems:
            failures += 1
            print(f"FAIL {label}")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"ok   {label}" + (f" ({'; '.join(notes)})" if notes else ""))
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
            document = json.load(handle)
        if document.get("skipped"):
            pairs = ", ".join(f"{entry['host']}+{entry['partner']}" for entry in document["skipped"])
            print(f"note: {out_dir}: tvgeo wrote no folder for {len(document['skipped'])} pairs ({pairs}; see manifest.json)")
        return [os.path.join(out_dir, entry["folder"]) for entry in document["merges"]]
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

def check_merge(folder: str, base_model: str | None, peft_reference: bool, notes: list[str]) -> list[str]:
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

    # Every block: the file's, the record's and the inputs' (module paths; a block is a module at a layer).
    d_host, d_partner, d_merged = deltas(host_config, host), deltas(partner_config, partner), deltas(config, merged)
    recorded = [block["module_path"] for block in record["blocks"]]
    inputs = set(d_host) | set(d_partner) if method == "cat" else set(d_host)
    if method != "cat" and set(d_partner) != set(d_host):
        problems.append(f"{method}: the host's and the partner's blocks differ: {sorted(set(d_host) ^ set(d_partner))}")
    if len(recorded) != len(set(recorded)) or set(recorded) != set(d_merged) or set(d_merged) != inputs:
        problems.append(f"blocks differ: file {len(d_merged)}, tvgeo-merge.json {len(recorded)}, inputs {len(inputs)}: "
                        f"{sorted((set(d_merged) ^ set(recorded)) | (set(d_merged) ^ inputs))}")
    notes.append(f"{len(d_merged)} blocks")

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
    else:
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

    if peft_reference:
        problems += check_with_peft_reference(folder, record, config, raw, notes)
    if base_model:
        import transformers

        problems += check_with_model(folder, lambda kwargs: load_base(transformers, base_model, config, kwargs), config, raw)[0]
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


def head_rows(config, raw) -> dict:
    """from_pretrained keyword arguments for a sequence-classification adapter's own head."""
    task = str(getattr(config, "task_type", "") or "")
    heads = [t for n, t in raw.items() if module_path(n) is None and n.endswith("weight") and t.dim() == 2]
    # The adapter brings its own head (modules_to_save): the model gets a head of this size.
    return {"num_labels": min(h.shape[0] for h in heads)} if task.endswith("SEQ_CLS") and heads else {}


def load_base(transformers, base_model: str, config, kwargs: dict):
    task = str(getattr(config, "task_type", "") or "")
    if task.endswith("SEQ_CLS"):
        if kwargs:
            # A base saved with another label count loads with a fresh head of this size.
            kwargs = dict(kwargs, ignore_mismatched_sizes=True)
        return transformers.AutoModelForSequenceClassification.from_pretrained(base_model, **kwargs)
    if task.endswith("CAUSAL_LM"):
        return transformers.AutoModelForCausalLM.from_pretrained(base_model)
    return transformers.AutoModel.from_pretrained(base_model)


def check_with_model(folder: str, make_model, config, raw):
    """(problems, the PeftModel): the folder loaded with PeftModel.from_pretrained into make_model(kwargs)."""
    import torch
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(make_model(head_rows(config, raw)), folder)
    problems = []
    checked = 0
    created = set()
    for name, module in lora_layers(peft_model, "default"):
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
    return problems, peft_model


def lora_layers(peft_model, adapter: str):
    """(name, module) of every LoRA layer of the model that holds `adapter`."""
    for name, module in peft_model.named_modules():
        if adapter in getattr(module, "lora_A", {}):
            yield name, module


# --- PEFT's own merge on a random model ----------------------------------------------------------

BERT_LAYER = re.compile(r"^(?P<prefix>(?:bert\.)?)encoder\.layer\.(?P<layer>\d+)\.(?P<inner>.+)$")


def random_bert(tensors_by_adapter: list, dtype):
    """A factory of randomly initialised BERT models with the shapes the adapters adapt, or a reason why not.

    The adapted modules' shapes are read from the LoRA factors: the hidden size from any attention
    or output projection, the feed-forward size from intermediate/output dense when adapted (else 4×
    hidden), the layer count from the largest layer index. Embeddings are tiny (8 tokens and
    positions): no LoRA touches them. The weights are random and do not matter: only the LoRA layers
    are compared.
    """
    import torch
    import transformers

    hidden = intermediate = None
    layers = 0
    prefixes = set()
    for tensors in tensors_by_adapter:
        for name, tensor in tensors.items():
            parsed = module_path(name)
            if not parsed:
                continue
            match = BERT_LAYER.match(parsed[0])
            if not match:
                return None, f"the PEFT reference builds a random BERT, and {parsed[0]} is no BERT encoder module"
            prefixes.add(match["prefix"])
            layers = max(layers, int(match["layer"]) + 1)
            rows, cols = tensor.shape
            # lora_A is r × in, lora_B is out × r.
            size_in, size_out = (cols, None) if parsed[1] == "A" else (None, rows)
            inner = match["inner"]
            if inner.startswith("attention."):
                hidden = size_in or size_out
            elif inner == "intermediate.dense":
                hidden, intermediate = size_in or hidden, size_out or intermediate
            elif inner == "output.dense":
                intermediate, hidden = size_in or intermediate, size_out or hidden
    if hidden is None or len(prefixes) != 1:
        return None, "the PEFT reference could not read a BERT shape from the adapters"
    heads = next(h for h in (12, 16, 8, 6, 4, 2, 1) if hidden % h == 0)
    prefix = prefixes.pop()

    def make(kwargs: dict):
        config = transformers.BertConfig(vocab_size=8, max_position_embeddings=8, hidden_size=hidden, num_hidden_layers=layers,
                                         num_attention_heads=heads, intermediate_size=intermediate or 4 * hidden,
                                         num_labels=kwargs.get("num_labels", 2))
        torch.manual_seed(0)
        model = transformers.BertForSequenceClassification(config) if prefix else transformers.BertModel(config)
        return model.to(dtype).eval()

    return make, None


def for_add_weighted_adapter(path: str):
    """The adapter's config without modules_to_save (and so without a task type that adds its head)."""
    from peft import PeftConfig

    config = PeftConfig.from_pretrained(path)
    config.modules_to_save = None
    config.task_type = None
    return config


def dense(module, adapter: str):
    """s·B·A of one adapter of one LoRA layer, in float64, from the factors PEFT holds."""
    return module.scaling[adapter] * (module.lora_B[adapter].weight.detach().double() @ module.lora_A[adapter].weight.detach().double())


def check_with_peft_reference(folder: str, record: dict, config, raw, notes: list[str]) -> list[str]:
    import torch
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict

    method = record["method"]
    host_path, partner_path = record["host"]["path"], record["partner"]["path"]
    if not os.path.isdir(partner_path):
        notes.append("no PEFT reference: the partner is a bare .safetensors file, which PEFT does not load")
        return []
    host_raw = load_raw(record["host"]["files"][-1]["path"])
    partner_raw_tensors = load_raw(record["partner"]["files"][-1]["path"])
    lora_dtypes = {t.dtype for tensors in (raw, host_raw, partner_raw_tensors) for n, t in tensors.items() if module_path(n)}
    # float32 as the adapters are used; float64 when an adapter stores float64 (no rounding on load).
    dtype = torch.float64 if torch.float64 in lora_dtypes else torch.float32
    make, reason = random_bert([raw, host_raw, partner_raw_tensors], dtype)
    if make is None:
        return [reason]

    # The merged folder as a user loads it.
    problems, merged_model = check_with_model(folder, make, config, raw)
    saved = get_peft_model_state_dict(merged_model, save_embedding_layers=False)
    if set(saved) != set(raw):
        problems.append(f"get_peft_model_state_dict names differ from the file's: {sorted(set(saved) ^ set(raw))}")
    for name, tensor in raw.items():
        if name in saved and not torch.equal(saved[name].detach().cpu().to(tensor.dtype), tensor):
            problems.append(f"{name}: get_peft_model_state_dict differs from the file")

    # PEFT's own merge of the host and the partner.
    reference = PeftModel.from_pretrained(make({}), host_path, adapter_name="host", config=for_add_weighted_adapter(host_path))
    reference.load_adapter(partner_path, adapter_name="partner", config=for_add_weighted_adapter(partner_path))
    origins = {block["module_path"]: block.get("origin", "both") for block in record["blocks"]}
    merged_ranks = {block["module_path"]: block["merged"]["rank"] for block in record["blocks"]}
    if method == "cat":
        runs = {"peft_cat": dict(weights=[0.5, 0.5], combination_type="cat")}
        label = 'combination_type="cat", weights [0.5, 0.5]'
    elif method == "svd":
        # PEFT's svd takes one rank for every module: one merge per rank tvgeo wrote.
        runs = {f"peft_svd_r{rank}": dict(weights=[0.5, 0.5], combination_type="svd", svd_rank=rank)
                for rank in sorted(set(merged_ranks.values()))}
        label = f'combination_type="svd", weights [0.5, 0.5], svd_rank {"/".join(map(str, sorted(set(merged_ranks.values()))))}'
    else:
        runs = {"peft_linear": dict(weights=[0.25, 0.25], combination_type="linear")}
        label = 'combination_type="linear", weights [0.25, 0.25]'
    for name, arguments in runs.items():
        reference.add_weighted_adapter(["host", "partner"], adapter_name=name, **arguments)
    reference_layers = {name.removeprefix("base_model.model."): module for name, module in lora_layers(reference, next(iter(runs)))}
    merged_layers = {name.removeprefix("base_model.model."): module for name, module in lora_layers(merged_model, "default")}
    if set(reference_layers) != set(merged_layers) or set(merged_layers) != set(origins):
        problems.append(f"LoRA layers differ: PEFT's merge {len(reference_layers)}, the folder {len(merged_layers)}, "
                        f"tvgeo-merge.json {len(origins)}")

    tolerance = 1e-9 if dtype == torch.float64 else 1e-2 if lora_dtypes & {torch.float16, torch.bfloat16} else 1e-5
    worst = 0.0
    exact_factors = method == "comb" and lora_dtypes == {dtype}
    for path in sorted(set(reference_layers) & set(merged_layers)):
        mine, theirs = merged_layers[path], reference_layers[path]
        run = f"peft_svd_r{merged_ranks[path]}" if method == "svd" else next(iter(runs))
        expected = dense(theirs, run)
        if origins.get(path) in ("host only", "partner only"):
            # PEFT's cat weighs the one adapter that has the module by 0.5 (its average with an
            # adapter that leaves the module alone); tvgeo keeps that adapter's whole update.
            expected = 2 * expected
        actual = dense(mine, "default")
        scale = expected.abs().max().item()
        difference = (actual - expected).abs().max().item() / (scale or 1.0)
        worst = max(worst, difference)
        if difference > tolerance:
            problems.append(f"{path}: ΔW differs from PEFT's add_weighted_adapter({label}) by {difference:.3g} "
                            f"(relative to its largest entry; tolerance {tolerance:g})")
        if exact_factors:
            # comb: the element-wise averages of the factors PEFT loaded, as PyTorch computes them.
            for factor in ("lora_A", "lora_B"):
                average = (getattr(theirs, factor)["host"].weight + getattr(theirs, factor)["partner"].weight) * 0.5
                if not torch.equal(getattr(mine, factor)["default"].weight, average):
                    problems.append(f"{path}: {factor} is not (host + partner) * 0.5 of the factors PEFT loaded")
    notes.append(f"PEFT add_weighted_adapter({label}): largest ΔW difference {worst:.1e}"
                 + (", factors bit for bit" if exact_factors else ""))
    return problems


if __name__ == "__main__":
    sys.exit(main())
