"""Reads tvgeo's layers.safetensors (the per-layer distance matrices beside metrics.json, schema
tvgeo.metrics/3) with plain NumPy, and puts the matrices back inline (the tvgeo.metrics/2 layout).

    import tvgeo_layers
    doc = tvgeo_layers.load_metrics("output/demo/metrics.json")   # distances.<metric>.<module>.layers / .mean inline
    tensors, metadata = tvgeo_layers.read_safetensors("output/demo/layers.safetensors")

`tvgeo export --json-layers DIR` writes the same inline document as a file. The safetensors layout
(8-byte little-endian header length, JSON header, raw data) is read here without the `safetensors`
package; `safetensors.numpy.load_file` reads the same file.
"""

import hashlib
import json
import os
import struct

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def read_safetensors(path):
    """(name -> array, metadata dict) of a safetensors file."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        data = np.fromfile(handle, dtype=np.uint8)
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        tensors[name] = data[start:end].view(DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, metadata


def _rows(matrix):
    """A matrix as JSON rows, NaN as None (null)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in matrix]


def inline_layers(document, folder):
    """The tvgeo.metrics/3 `document` (from `folder`) with `layers` and `mean` inline again, after
    checking the sidecar's size and SHA-256 against `layers_file`; other documents unchanged.
    A tvgeo.kinds/2 document has each kind's document inlined."""
    schema = document.get("schema")
    if schema == "tvgeo.kinds/2":
        out = dict(document, schema="tvgeo.kinds/1")
        out["kinds"] = {kind: inline_layers(doc, folder) for kind, doc in document["kinds"].items()}
        return out
    if schema != "tvgeo.metrics/3":
        return document
    record = document["layers_file"]
    path = os.path.join(folder, record["path"])
    with open(path, "rb") as handle:
        raw = handle.read()
    if len(raw) != record["bytes"] or hashlib.sha256(raw).hexdigest() != record["sha256"]:
        raise ValueError(f"{path}: size or SHA-256 differs from metrics.json's layers_file (replaced or damaged)")
    tensors, _ = read_safetensors(path)
    out = {key: value for key, value in document.items() if key != "layers_file"}
    out["schema"] = "tvgeo.metrics/2"
    distances = {}
    for metric, modules in document["distances"].items():
        distances[metric] = {}
        for module, entry in (modules or {}).items():
            if entry is None:
                distances[metric][module] = None
                continue
            distances[metric][module] = {"layer_ids": entry["layer_ids"],
                                         "layers": [_rows(m) for m in tensors[entry["tensor"]]],
                                         "mean": _rows(tensors[entry["mean_tensor"]])}
    out["distances"] = distances
    return out


def load_metrics(path):
    """metrics.json at `path`, with the per-layer matrices inline (see inline_layers)."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    return inline_layers(document, os.path.dirname(os.path.abspath(path)))
