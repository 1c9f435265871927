#!/usr/bin/env python3
"""Benchmark tvgeo against the NumPy references.

    python3 benchmarks/run_bench.py [--workloads seed,wide,fft] [--skip-naive]
                                    [--adapters N] [--layers L] [--repeats K]
                                    [--dense-blocks B]

(`make bench` builds tvgeo in release mode and runs this with the defaults.)

1. Generates the workloads that are missing (benchmarks/generate_workloads.py).
2. For each workload, runs every side the way a user runs it -- a fresh process,
   interpreter start-up included -- and measures whole-process wall time, CPU
   time (user + sys of the child and its descendants) and peak RSS (os.wait4 on
   the child: ru_utime, ru_stime, ru_maxrss):
     naive    python3 benchmarks/naive_numpy.py    (seed only, once)
     lowrank  python3 benchmarks/lowrank_numpy.py  (9 runs on seed, 1 on wide)
     tvgeo    .build/release/tvgeo analyze --quiet (9 runs on seed, 1 on wide)
   Repeated runs are interleaved (tvgeo, lowrank, tvgeo, ...); the median wall
   and CPU times and the largest peak RSS are reported.  Before timing, every
   adapter file is read once so all sides start from a warm page cache.  The
   threads each side uses are reported with how they were determined: tvgeo's
   worker count is its rule min(blocks, cores) and its OpenBLAS is set to one
   thread by tvgeo itself; the Python sides' OpenBLAS threads are asked of each
   OpenBLAS library loaded after importing the side's module in a fresh
   interpreter (threadpoolctl if installed, else openblas_get_num_threads()).
3. Checks that every per-layer matrix and every layer mean of EVERY tvgeo run's
   metrics.json agrees with EVERY run of each reference (and every lowrank run
   with the naive run): |a − b| ≤ max(1e-9·max(|a|,|b|), 1e-12), and null
   exactly where the reference has null.
4. On `wide` (no naive run there), a dense check: for --dense-blocks (module,
   layer) blocks and the tasks task00, task01 (its near-duplicate) and task06
   (shared part negated), ΔW = s·B·A is formed densely in float64 and l2,
   cosine (np.linalg.norm; ½‖ΔW_i/‖ΔW_i‖ − ΔW_j/‖ΔW_j‖‖²), grassmann (one scipy.linalg.orth of each
   dense ΔW, then SciPy's subspace_angles via naive_numpy.grassmann),
   grassmann_b and grassmann_a (naive_numpy's SciPy path on B and Aᵀ) are
   compared with those entries of every tvgeo run's layer matrices, same
   tolerance.
5. Measures this machine's dgemm rate (np.dot, float64, the Gram shape
   (N·r × d)·(d × N·r), NumPy's default threads, best of 5) and derives the
   GEMM-bound limit: Σ_blocks 2·(d_out + d_in)·(N·r)² flops / rate.
6. fft (full fine-tuning): tvgeo analyze --base on real MiniLM checkpoints
   (--fft-data, default Tests/Fixtures/real/minilm-fullft) against the dense
   NumPy/SciPy path scripts/reference_fullft.py, at OpenBLAS's default threads
   (dense) and at one thread (dense1); --fft-repeats runs each (default 3),
   interleaved; target: tvgeo ≥ 5× faster than the faster dense side.
7. Prints one table per workload and writes everything to
   benchmarks/results/latest.json.

Exit status: 0 only if every run succeeded, every comparison agreed and every
target was met; 1 otherwise (the reasons are printed last).  Targets are
binding on the full workloads only: with --adapters/--layers they are printed
for information.

--scaling 10,50,...,1000 runs the scaling table instead (benchmarks/scaling.py): tvgeo
analyze, tvgeo report and lowrank on the `library` workload at each N, --repeats runs each
(default 3), with the fit that names the dominant cost term; results in
benchmarks/results/scaling.json.

--adapters/--layers shrink every listed workload (quick iteration; the data go
to benchmarks/workloads/<name>-n<N>-l<L>/); --repeats overrides the number of
runs of tvgeo and lowrank on seed; --dense-blocks 0 skips the dense check.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import numpy as np  # noqa: E402
import scipy  # noqa: E402

import generate_workloads  # noqa: E402
import lora_io  # noqa: E402
import tvgeo_layers  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12
RESULTS = os.path.join(HERE, "results")
TVGEO = os.path.join(ROOT, ".build", "release", "tvgeo")
TARGETS = {
    "seed": "tvgeo ≥ 1000× faster than naive and ≥ 5× faster than low-rank NumPy; the full report < 0.5 s",
    "wide": "tvgeo < 60 s, ≤ 2× the GEMM-bound limit, peak RSS < 2 GB, faster than low-rank NumPy",
    "big": "peak RSS < 1 GB on two 2.1 GB adapters (not in the default run: --workloads big)",
    "fft": "tvgeo analyze --base ≥ 5× faster than the faster of dense and dense1 (median wall, same run)",
}
FFT_DATA = os.path.join(ROOT, "Tests", "Fixtures", "real", "minilm-fullft")
FFT_TASKS = ("sst2", "emotion", "irony")
FFT_DENSE = os.path.join("scripts", "reference_fullft.py")


# --------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break  # first processor only
                k, _, v = line.partition(":")
                fields[k.strip()] = v.strip()
    except OSError:
        pass
    if "model name" in fields:
        cpu = fields["model name"]
        if "cpu family" in fields and "model" in fields:
            cpu += f" (family {fields['cpu family']}, model {fields['model']})"
    mem_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gb = int(line.split()[1]) / 1024 / 1024
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1) if mem_gb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "load_average_at_start": list(os.getloadavg()),
    }
    try:
        info["blas"] = np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("version")
    except Exception:  # noqa: BLE001 - informational only
        pass
    return info


def git_info() -> dict:
    """Read-only: HEAD and whether tvgeo's sources differ from it."""
    out = {}
    try:
        out["commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=True).stdout.strip()
        st = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--",
             "Sources", "Package.swift"], cwd=ROOT, capture_output=True, text=True,
            check=True).stdout
        out["sources_modified"] = bool(st.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    return out


# --------------------------------------------------------------------------
# running one side
# --------------------------------------------------------------------------


# The measured process is started by a small helper interpreter (no NumPy), not
# by this process: Linux counts the RSS of the process a child was forked from
# (and, with vfork, of the mm it replaced at exec) in the child's ru_maxrss, so
# forking from this NumPy-laden process would inflate every reading.  The helper
# is ~11 MB, which is therefore the floor of any reported peak RSS.
_RUNNER = r"""
import json, os, subprocess, sys, time
cmd, cwd, log_path = json.loads(sys.argv[1])
with open(log_path, "wb") as log:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
proc.returncode = code = os.waitstatus_to_exitcode(status)
print(json.dumps({"wall_s": wall, "peak_rss_kb": ru.ru_maxrss, "exit_code": code,
                  "user_s": ru.ru_utime, "sys_s": ru.ru_stime}))
"""


def run_child(cmd: list[str], log_path: str) -> dict:
    """Run cmd as a fresh process; its wall time, CPU time and peak RSS (os.wait4
    on the Popen pid: ru_utime + ru_stime, which include the descendants it
    waited for, and ru_maxrss in KB), measured by the helper above."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    helper = subprocess.run([sys.executable, "-I", "-S", "-c", _RUNNER,
                             json.dumps([cmd, ROOT, log_path])],
                            capture_output=True, text=True, check=True)
    res = json.loads(helper.stdout)
    res["cpu_s"] = res["user_s"] + res["sys_s"]
    res["log"] = os.path.relpath(log_path, ROOT)
    return res


def side_command(side: str, tasks: list[str], out: str) -> list[str]:
    if side == "tvgeo":
        return [TVGEO, "analyze", "--quiet", "--out", out, *tasks]
    script = os.path.join("benchmarks", f"{side}_numpy.py")
    return [sys.executable, script, *tasks, "--out", out]  # progress lines go to the log


def side_output(side: str, out: str) -> str:
    return os.path.join(out, "metrics.json") if side == "tvgeo" else out


def warm_cache(tasks: list[str]) -> None:
    buf = bytearray(1 << 22)
    for t in tasks:
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            with open(os.path.join(t, name), "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


# --------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------


# Defines probe(): the threads of every OpenBLAS mapped in the running process,
# as each library itself reports them.  Run in a fresh interpreter after
# importing a side's module (so its environment and imports are the side's),
# and in this process for the dgemm measurement.
_BLAS_PROBE = r"""
import ctypes, os

def probe():
    env = {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS", "TVGEO_BENCH_BLAS_THREADS")}
    def label(path):
        return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        libs = [{"library": label(i["filepath"]), "threads": i["num_threads"]}
                for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        return {"libraries": libs, "env": env,
                "how": "threadpoolctl " + threadpoolctl.__version__ + " (threadpool_info)"}
    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 6 and "openblas" in os.path.basename(parts[5]).lower() \
                        and parts[5] not in paths:
                    paths.append(parts[5])
    except OSError:
        pass
    libs = []
    for path in paths:
        threads = None
        try:
            lib = ctypes.CDLL(path)  # already mapped: the same handle
            for prefix in ("", "scipy_"):
                for suffix in ("", "64_", "_64_"):
                    fn = getattr(lib, prefix + "openblas_get_num_threads" + suffix, None)
                    if fn is not None and threads is None:
                        fn.restype, fn.argtypes = ctypes.c_int, []
                        threads = int(fn())
        except OSError:
            pass
        libs.append({"library": label(path), "threads": threads})
    return {"libraries": libs, "env": env,
            "how": "openblas_get_num_threads() of each OpenBLAS in /proc/self/maps, via ctypes "
                   "(threadpoolctl is not installed)"}
"""


def blas_threads_here() -> dict:
    """probe() in this process (the OpenBLAS of its NumPy, which np.dot uses)."""
    ns: dict = {}
    exec(_BLAS_PROBE, ns)  # noqa: S102 - our own constant
    return ns["probe"]()


def blas_threads_of(module: str, directory: str = HERE) -> dict:
    """probe() in a fresh interpreter after `import module` (lowrank_numpy sets
    OPENBLAS_NUM_THREADS before importing NumPy; naive_numpy imports NumPy and
    scipy.linalg with the inherited environment), as the side's process would."""
    code = ("import importlib, json, sys\nsys.path.insert(0, sys.argv[1])\n"
            "importlib.import_module(sys.argv[2])\n" + _BLAS_PROBE +
            "\nprint(json.dumps(probe()))\n")
    try:
        r = subprocess.run([sys.executable, "-c", code, directory, module], cwd=ROOT,
                           capture_output=True, text=True, check=True)
        return json.loads(r.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        return {"libraries": [], "how": f"probe failed: {e}"}


def blas_summary(probe: dict):
    """One thread count if every library agrees, else their list; None if unknown."""
    counts = [lib["threads"] for lib in probe.get("libraries", [])]
    if not counts or any(c is None for c in counts):
        return None
    return counts[0] if len(set(counts)) == 1 else counts


def side_threads(blocks: int, probes: dict) -> dict:
    """Threads each side uses (workers × OpenBLAS threads each), with how each
    number was determined."""
    cores = os.cpu_count() or 1
    out = {"tvgeo": {
        "workers": min(blocks, cores),
        "workers_how": f"min({blocks} blocks, {cores} cores), tvgeo's rule min(jobs, "
                       f"ProcessInfo.activeProcessorCount) (Sources/Study/ConcurrentWork.swift) with "
                       f"cores = os.cpu_count() (activeProcessorCount counts online CPUs, not the "
                       f"affinity mask)",
        "blas": 1,
        "blas_how": "1, set by tvgeo at start-up (openblas_set_num_threads(1), "
                    "Sources/AnalysisCore/Factorizations.swift)",
    }}
    for side, module in (("lowrank", "lowrank_numpy"), ("naive", "naive_numpy")):
        pr = probes.get(side)
        if pr is None:
            continue
        libs = ", ".join(f"{lib['library']}: {lib['threads'] if lib['threads'] is not None else '?'}"
                         for lib in pr["libraries"]) or "no OpenBLAS found"
        if side == "lowrank":
            serial = bool(os.environ.get("TVGEO_BENCH_BLAS_THREADS"))
            workers = 1 if serial else 2
            workers_how = ("1 Python thread (TVGEO_BENCH_BLAS_THREADS is set)" if serial else
                           "2 Python threads, the B and A sides of each block "
                           "(lowrank_numpy.py: ThreadPoolExecutor(max_workers=2))")
        else:
            workers, workers_how = 1, "1 Python thread (naive_numpy.py has no threads of its own)"
        out[side] = {"workers": workers, "workers_how": workers_how,
                     "blas": blas_summary(pr),
                     "blas_how": f"{libs} (asked after `import {module}` in a fresh interpreter "
                                 f"with this environment: {pr['how']})",
                     "blas_probe": pr}
    return out


def threads_label(t: dict | None) -> str:
    if not t:
        return "—"
    b = t["blas"]
    b_s = "?" if b is None else ("/".join(str(x) for x in b) if isinstance(b, list) else str(b))
    return f"{t['workers']}×{b_s}"


# --------------------------------------------------------------------------
# agreement
# --------------------------------------------------------------------------


def new_agreement() -> dict:
    return {"entries": 0, "failures": 0, "null_mismatches": 0, "max_err": 0.0,
            "max_rel_nonzero": 0.0, "worst": None, "per_metric": {}, "problems": []}


def check_entry(res: dict, metric: str, mod: str, where: str, i: int, j: int, a, b) -> None:
    """One entry, reference a vs tvgeo b, into the tallies of res."""
    res["entries"] += 1
    pm = res["per_metric"].setdefault(metric, 0.0)
    if (a is None) != (b is None):
        res["null_mismatches"] += 1
        res["failures"] += 1
        if len(res["problems"]) < 10:
            res["problems"].append(f"{metric}/{mod} {where} [{i},{j}]: {a} vs {b}")
        return
    if a is None:
        return
    big = max(abs(a), abs(b))
    diff = abs(a - b)
    # error relative to max(|a|, |b|), with the absolute floor ATOL
    err = diff / max(big, ATOL / RTOL)
    if big > 0:
        res["max_rel_nonzero"] = max(res["max_rel_nonzero"], diff / big)
    res["per_metric"][metric] = max(pm, err)
    if err > RTOL:
        res["failures"] += 1
        if len(res["problems"]) < 10:
            res["problems"].append(f"{metric}/{mod} {where} [{i},{j}]: {a!r} vs {b!r} (rel {err:.1e})")
    if err > res["max_err"]:
        res["max_err"] = err
        res["worst"] = {"metric": metric, "module": mod, "where": where,
                        "i": i, "j": j, "reference": a, "tvgeo": b}


def compare_docs(ref: dict, tv: dict) -> dict:
    """Every per-layer matrix and mean of tvgeo (tv) vs a reference (ref), both
    parsed metrics.json-style documents."""
    res = new_agreement()
    if ref["tasks"] != tv["tasks"]:
        res["problems"].append(f"tasks differ: {ref['tasks']} vs {tv['tasks']}")
    if ref["modules"] != tv["modules"]:
        res["problems"].append(f"modules differ: {ref['modules']} vs {tv['modules']}")
    for metric, mods in ref["distances"].items():
        res["per_metric"].setdefault(metric, 0.0)
        for mod, rd in mods.items():
            td = tv["distances"].get(metric, {}).get(mod)
            if td is None:
                res["problems"].append(f"tvgeo lacks {metric}/{mod}")
                continue
            if rd["layer_ids"] != td["layer_ids"]:
                res["problems"].append(f"{metric}/{mod}: layer_ids differ")
                continue
            mats = [(f"layer {lid}", a, b) for lid, a, b in zip(rd["layer_ids"], rd["layers"], td["layers"])]
            mats.append(("mean", rd["mean"], td["mean"]))
            for where, A, B in mats:
                for i, (ra, rb) in enumerate(zip(A, B)):
                    for j, (a, b) in enumerate(zip(ra, rb)):
                        check_entry(res, metric, mod, where, i, j, a, b)
    res["agree"] = res["failures"] == 0 and not res["problems"]
    return res


def compare(ref_path: str, tv_path: str) -> dict:
    """compare_docs on two files."""
    with open(ref_path, encoding="utf-8") as fh:
        ref = json.load(fh)
    tv = tvgeo_layers.load_metrics(tv_path)  # the per-layer matrices from layers.safetensors
    return compare_docs(ref, tv)


def aggregate(pairs: list[tuple[str, dict]]) -> dict:
    """Several comparisons (label, compare_docs result) as one: agree only if
    every one agrees; `entries` is per comparison, `comparisons` how many,
    `failures` the failing entries summed over them; the worst names its runs."""
    agg = new_agreement()
    agg["comparisons"] = len(pairs)
    agg["disagreeing_comparisons"] = 0
    agg["run_pairs"] = []
    for label, r in pairs:
        agg["run_pairs"].append({"runs": label, "agree": r["agree"], "max_err": r["max_err"],
                            "failures": r["failures"], "entries": r["entries"]})
        agg["disagreeing_comparisons"] += not r["agree"]
        agg["entries"] = max(agg["entries"], r["entries"])
        agg["failures"] += r["failures"]
        agg["null_mismatches"] += r["null_mismatches"]
        agg["max_rel_nonzero"] = max(agg["max_rel_nonzero"], r["max_rel_nonzero"])
        for m, e in r["per_metric"].items():
            agg["per_metric"][m] = max(agg["per_metric"].get(m, 0.0), e)
        if r["worst"] is not None and (agg["worst"] is None or r["max_err"] > agg["max_err"]):
            agg["max_err"] = r["max_err"]
            agg["worst"] = dict(r["worst"], runs=label)
        for prob in r["problems"]:
            if len(agg["problems"]) < 20:
                agg["problems"].append(f"{label}: {prob}")
    agg["agree"] = bool(pairs) and agg["disagreeing_comparisons"] == 0
    return agg


def load_outputs(paths: list[tuple[int, str]]) -> list[tuple[int, dict | None, str | None]]:
    """(run number, parsed output or None, error text or None) per successful run."""
    out = []
    for k, path in paths:
        try:
            # tvgeo's metrics.json with its layers.safetensors inline; the references' output as it is.
            out.append((k, tvgeo_layers.load_metrics(path), None))
        except (OSError, ValueError) as e:
            out.append((k, None, f"cannot read {os.path.relpath(path, ROOT)}: {e}"))
    return out


def compare_runs(refs, tvs, ref_name: str, tv_name: str = "tvgeo") -> dict:
    """Every run of tv_name against every run of ref_name (outputs from load_outputs)."""
    pairs = []
    for kt, tv, tv_err in tvs:
        for kr, ref, ref_err in refs:
            label = f"{tv_name} run {kt} vs {ref_name} run {kr}"
            if tv_err or ref_err:
                r = new_agreement()
                r["problems"].append(tv_err or ref_err)
                r["agree"] = False
            else:
                r = compare_docs(ref, tv)
            pairs.append((label, r))
    return aggregate(pairs)


# --------------------------------------------------------------------------
# dense check (wide)
# --------------------------------------------------------------------------


DENSE_TASKS = (0, 1, 6)  # task00, task01 (its near-duplicate), task06 (shared part negated)


def dense_blocks(modules, plan, count: int) -> list[tuple[str, int, tuple]]:
    """`count` (module, layer, key) blocks spread over the study (first and last for 2)."""
    flat = [(mod, layer, key) for mod in modules for layer, key in plan[mod]]
    if count <= 0 or not flat:
        return []
    if count == 1:
        return [flat[0]]
    picks = sorted({round(k * (len(flat) - 1) / (count - 1)) for k in range(count)})
    return [flat[p] for p in picks]


def dense_reference(tasks: list[str], count: int) -> dict:
    """Dense NumPy/SciPy values of every metric for a few blocks and tasks.

    Per block, for the chosen tasks: ΔW = s·B·A in float64 (lora_io reads the
    factors as float64); l2 = np.linalg.norm(ΔW_i − ΔW_j) as naive_numpy.py
    writes it; cosine = ½‖ΔW_i/‖ΔW_i‖ − ΔW_j/‖ΔW_j‖‖²_F (= 1 − ⟨ΔW_i, ΔW_j⟩/
    (‖ΔW_i‖‖ΔW_j‖), naive_numpy.py's formula, without its cancellation for
    close tasks) clipped to [0, 2]; grassmann from scipy.linalg.orth of each
    dense ΔW (the SVD that subspace_angles would repeat for every pair; an
    empty basis means null), then naive_numpy.grassmann
    (scipy.linalg.subspace_angles) on the bases;
    grassmann_b / grassmann_a with naive_numpy.has_subspace and
    naive_numpy.grassmann on B and Aᵀ.

    naive_numpy and scipy.linalg are imported here, not at the top: SciPy's own
    OpenBLAS then stays out of this process unless the check runs."""
    import scipy.linalg  # noqa: PLC0415
    import naive_numpy  # noqa: PLC0415
    adapters, names, modules, plan = lora_io.study_plan(tasks)
    n = len(adapters)
    idx = sorted({t for t in DENSE_TASKS if t < n} | ({n - 1} if n <= max(DENSE_TASKS) else set()))
    blocks = []
    try:
        for mod, layer, key in dense_blocks(modules, plan, count):
            t0 = time.perf_counter()
            factors = [adapters[t].factors(key) for t in idx]  # (A, B) float64
            dws = [adapters[t].scale * (B @ A) for t, (A, B) in zip(idx, factors)]
            norms = [float(np.linalg.norm(w)) for w in dws]
            bases = [scipy.linalg.orth(w) if np.any(w) else None for w in dws]
            has = {"grassmann": [b is not None and b.shape[1] > 0 for b in bases],
                   "grassmann_b": [naive_numpy.has_subspace(B) for _A, B in factors],
                   "grassmann_a": [naive_numpy.has_subspace(A.T) for A, _B in factors]}
            spaces = {"grassmann": bases, "grassmann_b": [B for _A, B in factors],
                      "grassmann_a": [A.T for A, _B in factors]}
            k = len(idx)
            mats = {m: [[None] * k for _ in range(k)] for m in lora_io.METRICS}
            for a in range(k):
                for b in range(k):
                    if a == b:
                        mats["l2"][a][b] = 0.0
                        mats["cosine"][a][b] = 0.0 if norms[a] > 0 else None
                        for g in has:
                            mats[g][a][b] = 0.0 if has[g][a] else None
                        continue
                    if b < a:  # symmetric, as the naive path mirrors it
                        for m in lora_io.METRICS:
                            mats[m][a][b] = mats[m][b][a]
                        continue
                    mats["l2"][a][b] = float(np.linalg.norm(dws[a] - dws[b]))
                    if norms[a] > 0 and norms[b] > 0:
                        # 1 − ⟨u, v⟩ = ½‖u − v‖² for the unit u = ΔW_a/‖ΔW_a‖, v = ΔW_b/‖ΔW_b‖:
                        # the same value without the cancellation of 1 − np.vdot(...) when the
                        # tasks are close (task00/task01 on wide: cosine ~3e-6, which 1 − vdot
                        # gets to 6.5e-8 relative, this form to ~2e-13)
                        diff = dws[a] / norms[a] - dws[b] / norms[b]
                        c = 0.5 * float(np.vdot(diff, diff))
                        del diff
                        mats["cosine"][a][b] = min(max(c, 0.0), 2.0)
                    for g in has:
                        if has[g][a] and has[g][b]:
                            mats[g][a][b] = naive_numpy.grassmann(spaces[g][a], spaces[g][b])
            del dws, bases, spaces, factors
            blocks.append({"module": mod, "layer": layer, "matrices": mats,
                           "seconds": time.perf_counter() - t0})
            print(f"  dense check: {mod} layer {layer} ({len(idx)} tasks) "
                  f"{blocks[-1]['seconds']:.1f} s", flush=True)
    finally:
        for ad in adapters:
            ad.close()
    return {"tasks": [names[t] for t in idx], "blocks": blocks}


def compare_dense(dense: dict, tvs) -> dict:
    """The dense values against those entries of every tvgeo run's layer matrices."""
    pairs = []
    for kt, tv, tv_err in tvs:
        r = new_agreement()
        if tv_err:
            r["problems"].append(tv_err)
        else:
            try:
                pos = [tv["tasks"].index(t) for t in dense["tasks"]]
            except ValueError:
                r["problems"].append(f"tvgeo's tasks {tv['tasks']} lack one of {dense['tasks']}")
                pos = None
            for blk in dense["blocks"] if pos is not None else []:
                for metric, M in blk["matrices"].items():
                    td = tv["distances"].get(metric, {}).get(blk["module"])
                    if td is None or blk["layer"] not in td["layer_ids"]:
                        r["problems"].append(f"tvgeo lacks {metric}/{blk['module']} layer {blk['layer']}")
                        continue
                    T = td["layers"][td["layer_ids"].index(blk["layer"])]
                    for a, i in enumerate(pos):
                        for b, j in enumerate(pos):
                            check_entry(r, metric, blk["module"], f"layer {blk['layer']}", i, j,
                                        M[a][b], T[i][j])
        r["agree"] = r["failures"] == 0 and not r["problems"] and r["entries"] > 0
        pairs.append((f"tvgeo run {kt} vs dense", r))
    return aggregate(pairs)


# --------------------------------------------------------------------------
# GEMM-bound limit
# --------------------------------------------------------------------------


def gemm_work(tasks: list[str]) -> dict:
    """Flops of the two Gram products of every block, from the headers."""
    adapters, _tasks, modules, plan = lora_io.study_plan(tasks)
    n = len(adapters)
    flops, blocks, shape = 0, 0, None
    for mod in modules:
        for _layer, key in plan[mod]:
            ent = adapters[0].blocks[key]
            r, d_in = ent["lora_A"].shape
            d_out = ent["lora_B"].shape[0]
            flops += 2 * (d_out + d_in) * (n * r) ** 2
            blocks += 1
            if shape is None or max(d_out, d_in) > shape[1]:
                shape = (n * r, max(d_out, d_in))
    return {"flops": flops, "blocks": blocks, "gram_shape": shape}


def dgemm_rate(nr: int, d: int, reps: int = 5) -> float:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((nr, d))
    Y = np.ascontiguousarray(X.T)  # a distinct buffer: a general dgemm, not syrk
    np.dot(X, Y)  # warm-up (threads, pages)
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        np.dot(X, Y)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * nr * nr * d / best


# --------------------------------------------------------------------------
# one workload
# --------------------------------------------------------------------------


def summarize_runs(runs: list[dict]) -> dict:
    """Median wall and CPU times and the largest peak RSS of the successful runs."""
    ok = [r for r in runs if r["exit_code"] == 0]
    out = {"runs": runs, "ok": len(ok) == len(runs),
           "wall_s": statistics.median(r["wall_s"] for r in ok) if ok else None,
           "cpu_s": statistics.median(r["cpu_s"] for r in ok) if ok else None,
           "user_s": statistics.median(r["user_s"] for r in ok) if ok else None,
           "sys_s": statistics.median(r["sys_s"] for r in ok) if ok else None,
           "peak_rss_mb": max(r["peak_rss_kb"] for r in ok) / 1024 if ok else None}
    # median over runs of each run's CPU / wall: how many cores it kept busy on average
    out["cpu_per_wall"] = statistics.median(r["cpu_s"] / r["wall_s"] for r in ok) \
        if ok and all(r["wall_s"] > 0 for r in ok) else None
    return out


def bench_workload(name: str, args, repeats: int, probes: dict) -> dict:
    print(f"\n== workload {name} ==", flush=True)
    tasks = generate_workloads.ensure(name, adapters=args.adapters, layers=args.layers)
    tasks_rel = [os.path.relpath(t, ROOT) for t in tasks]
    p = generate_workloads.workload_params(name, args.adapters, args.layers)
    run_dir = os.path.join(RESULTS, "runs", os.path.basename(os.path.dirname(tasks[0])))
    if os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir)
    warm_cache(tasks)

    sides = ["tvgeo", "lowrank"]
    if name == "seed" and not args.skip_naive:
        sides.append("naive")
    n_runs = {"tvgeo": repeats, "lowrank": repeats, "naive": 1}
    runs = {s: [] for s in sides}
    outputs = {s: [] for s in sides}  # (run number, output path) of every successful run
    for k in range(max(n_runs[s] for s in sides)):
        for side in sides:
            if k >= n_runs[side]:
                continue
            out = os.path.join(run_dir, f"{side}-{k + 1}" + ("" if side == "tvgeo" else ".json"))
            log = os.path.join(run_dir, f"{side}-{k + 1}.log")
            cmd = side_command(side, tasks_rel, os.path.relpath(out, ROOT))
            print(f"  {side} run {k + 1}/{n_runs[side]} ...", end="", flush=True)
            r = run_child(cmd, log)
            runs[side].append(r)
            if r["exit_code"] == 0:
                print(f" {r['wall_s']:.3f} s wall, {r['cpu_s']:.3f} s CPU, "
                      f"{r['peak_rss_kb'] / 1024:.0f} MB", flush=True)
                outputs[side].append((k + 1, side_output(side, out)))
            else:
                print(f" FAILED (exit {r['exit_code']}; see {r['log']})", flush=True)
                with open(log, encoding="utf-8", errors="replace") as fh:
                    tail = fh.read()[-2000:]
                print("    " + tail.replace("\n", "\n    "), flush=True)

    work = gemm_work(tasks)
    threads = side_threads(work["blocks"], probes)
    result = {"params": p, "tasks_dir": os.path.relpath(os.path.dirname(tasks[0]), ROOT),
              "targets_binding": args.adapters is None and args.layers is None,
              "sides": {}, "agreement": {}}
    for side in sides:
        result["sides"][side] = {
            "command": " ".join(side_command(side, [tasks_rel[0], "..."], "OUT")).replace(ROOT + "/", ""),
            **summarize_runs(runs[side]),
            "threads": threads[side],
        }

    # every run's output against every run of each reference
    docs = {side: load_outputs(outputs[side]) for side in sides}
    if docs["tvgeo"]:
        for side in sides:
            if side != "tvgeo" and docs[side]:
                result["agreement"][side] = compare_runs(docs[side], docs["tvgeo"], side)
        if docs.get("naive") and docs["lowrank"]:
            # the two references against each other (same tolerance): validates lowrank
            result["agreement_lowrank_vs_naive"] = compare_runs(docs["naive"], docs["lowrank"],
                                                                "naive", "lowrank")
        if name == "wide" and args.dense_blocks > 0:
            t0 = time.perf_counter()
            dense = dense_reference(tasks, args.dense_blocks)
            result["dense_check"] = compare_dense(dense, docs["tvgeo"])
            result["dense_check"].update({
                "tasks": dense["tasks"],
                "blocks": [{"module": b["module"], "layer": b["layer"], "seconds": b["seconds"]}
                           for b in dense["blocks"]],
                "seconds": time.perf_counter() - t0})
    del docs

    if name == "seed":
        # The full report (every format) as the README's main command writes it.
        report_runs = []
        for k in range(repeats):
            out = os.path.join(run_dir, f"report-{k + 1}")
            cmd = [TVGEO, "report", "--quiet", "--out", os.path.relpath(out, ROOT), *tasks_rel]
            print(f"  tvgeo report run {k + 1}/{repeats} ...", end="", flush=True)
            r = run_child(cmd, os.path.join(run_dir, f"report-{k + 1}.log"))
            report_runs.append(r)
            print(f" {r['wall_s']:.3f} s wall, {r['cpu_s']:.3f} s CPU" if r["exit_code"] == 0
                  else f" FAILED (exit {r['exit_code']})", flush=True)
        result["report"] = summarize_runs(report_runs)

    rate = dgemm_rate(*work["gram_shape"])
    result["gemm_bound"] = {
        "flops": work["flops"], "blocks": work["blocks"],
        "gram_shape": list(work["gram_shape"]), "dgemm_gflops": rate / 1e9,
        "limit_s": work["flops"] / rate,
        "dgemm_threads": blas_summary(probes["here"]),
        "dgemm_threads_how": "np.dot in this process, OpenBLAS at its default; loaded here: "
                             + ", ".join(f"{lib['library']}: {lib['threads']}"
                                         for lib in probes["here"].get("libraries", []))
                             + f" ({probes['here'].get('how', '?')})",
    }
    tv = result["sides"]["tvgeo"]["wall_s"]
    if tv:
        result["gemm_bound"]["tvgeo_over_limit"] = tv / result["gemm_bound"]["limit_s"]
        for side in sides:
            s = result["sides"][side]
            if side != "tvgeo" and s["wall_s"]:
                s["time_ratio"] = s["wall_s"] / tv
                s["memory_ratio"] = s["peak_rss_mb"] / result["sides"]["tvgeo"]["peak_rss_mb"]
                if s["cpu_s"] and result["sides"]["tvgeo"]["cpu_s"]:
                    s["cpu_ratio"] = s["cpu_s"] / result["sides"]["tvgeo"]["cpu_s"]
    result["targets"] = check_targets(name, result)
    return result


def check_targets(name: str, res: dict) -> dict:
    s = res["sides"]
    t = {}
    tv = s["tvgeo"]["wall_s"]
    if tv is None:
        return t
    if name == "seed":
        if s.get("naive", {}).get("wall_s"):
            t["≥1000× faster than naive"] = s["naive"]["wall_s"] / tv >= 1000
        if s["lowrank"]["wall_s"]:
            t["≥5× faster than low-rank NumPy"] = s["lowrank"]["wall_s"] / tv >= 5
        if res.get("report", {}).get("wall_s"):
            t["full report < 0.5 s"] = res["report"]["wall_s"] < 0.5
    elif name == "big":
        t["peak RSS < 1 GB with 2.1 GB adapters"] = s["tvgeo"]["peak_rss_mb"] < 1024
    elif name == "wide":
        t["< 60 s"] = tv < 60
        t["≤ 2× GEMM-bound limit"] = res["gemm_bound"]["tvgeo_over_limit"] <= 2
        t["peak RSS < 2 GB"] = s["tvgeo"]["peak_rss_mb"] < 2048
        if s["lowrank"]["wall_s"]:
            t["faster than low-rank NumPy"] = tv < s["lowrank"]["wall_s"]
    return t


# --------------------------------------------------------------------------
# full fine-tuning (fft)
# --------------------------------------------------------------------------


def bench_fft(args, probe: dict) -> dict:
    """tvgeo analyze --base against the dense NumPy/SciPy reference (scripts/reference_fullft.py:
    τ = W_t − W_0 in float64, a full np.linalg.svd of every τ, scipy.linalg.subspace_angles per
    pair) on real MiniLM checkpoints: both as a user runs them, interleaved, args.fft_repeats runs
    each; median wall and CPU times; every tvgeo run's distances against every dense run's."""
    data = os.path.relpath(args.fft_data, ROOT)
    print(f"\n== workload fft ({data}) ==", flush=True)
    base = os.path.join(data, "base.safetensors")
    checkpoints = [os.path.join(data, t) for t in FFT_TASKS]
    for path in [base] + checkpoints:
        if not os.path.exists(os.path.join(ROOT, path)):
            raise SystemExit(f"run_bench.py: {path} is missing (--fft-data names the folder of base.safetensors "
                             f"and {', '.join(FFT_TASKS)})")
    run_dir = os.path.join(RESULTS, "runs", "fft")
    if os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir)
    buf = bytearray(1 << 22)
    for path in [base] + [os.path.join(c, "model.safetensors") for c in checkpoints]:
        with open(os.path.join(ROOT, path), "rb", buffering=0) as fh:
            while fh.readinto(buf):
                pass

    def command(side: str, out: str) -> list[str]:
        if side == "tvgeo":
            return [TVGEO, "analyze", "--quiet", "--base", base, "--out", out, *checkpoints]
        # dense1: the same script with OpenBLAS on one thread (env execs Python: the same process
        # is measured), faster than the default two threads when the machine is busy.
        pin = ["env", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"] if side == "dense1" else []
        return [*pin, sys.executable, FFT_DENSE, "--base", base, "--out", out, *checkpoints]

    sides = ("tvgeo", "dense", "dense1")
    runs = {s: [] for s in sides}
    outputs = {s: [] for s in sides}
    for k in range(args.fft_repeats):
        for side in sides:
            out = os.path.join(run_dir, f"{side}-{k + 1}" + ("" if side == "tvgeo" else ".json"))
            log = os.path.join(run_dir, f"{side}-{k + 1}.log")
            print(f"  {side} run {k + 1}/{args.fft_repeats} ...", end="", flush=True)
            r = run_child(command(side, os.path.relpath(out, ROOT)), log)
            runs[side].append(r)
            if r["exit_code"] == 0:
                print(f" {r['wall_s']:.3f} s wall, {r['cpu_s']:.3f} s CPU, {r['peak_rss_kb'] / 1024:.0f} MB", flush=True)
                outputs[side].append((k + 1, os.path.join(out, "metrics.json") if side == "tvgeo" else out))
            else:
                print(f" FAILED (exit {r['exit_code']}; see {r['log']})", flush=True)
    cores = os.cpu_count() or 1
    blocks = 12  # 6 layers × query, value in the MiniLM checkpoints
    threads = {
        "tvgeo": {"workers": min(blocks, cores),
                  "workers_how": f"min({blocks} blocks, {cores} cores), tvgeo's rule (Sources/Study/ConcurrentWork.swift)",
                  "blas": 1, "blas_how": "1, set by tvgeo at start-up (openblas_set_num_threads(1))"},
        "dense": {"workers": 1, "workers_how": "1 Python thread (reference_fullft.py has no threads of its own)",
                  "blas": blas_summary(probe),
                  "blas_how": ", ".join(f"{lib['library']}: {lib['threads'] if lib['threads'] is not None else '?'}"
                                        for lib in probe.get("libraries", [])) or "no OpenBLAS found",
                  "blas_probe": probe},
        "dense1": {"workers": 1, "workers_how": "1 Python thread", "blas": 1,
                   "blas_how": "1 (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1 in its environment)"},
    }
    result = {"params": {"data": data, "tasks": list(FFT_TASKS), "blocks": blocks},
              "tasks_dir": data, "targets_binding": True, "sides": {}, "agreement": {}}
    for side in sides:
        result["sides"][side] = {"command": " ".join(command(side, "OUT")).replace(ROOT + "/", ""),
                                 **summarize_runs(runs[side]), "threads": threads[side]}
    docs = {side: load_outputs(outputs[side]) for side in sides}
    for side in sides[1:]:
        if docs["tvgeo"] and docs[side]:
            result["agreement"][side] = compare_runs(docs[side], docs["tvgeo"], side)
    tv = result["sides"]["tvgeo"]
    ratios = []
    for side in sides[1:]:
        dense = result["sides"][side]
        if tv["wall_s"] and dense["wall_s"]:
            dense["time_ratio"] = dense["wall_s"] / tv["wall_s"]
            dense["memory_ratio"] = dense["peak_rss_mb"] / tv["peak_rss_mb"]
            dense["cpu_ratio"] = dense["cpu_s"] / tv["cpu_s"] if tv["cpu_s"] else None
            ratios.append(dense["time_ratio"])
    # Against the faster of the two dense runs (the default threads, or one thread).
    result["targets"] = {"≥5× faster than dense NumPy/SciPy (the faster of dense, dense1)": min(ratios) >= 5} \
        if len(ratios) == len(sides) - 1 else {}
    return result


def print_agreement(checks) -> None:
    """The worst entry and the problems of each (side, agreement) pair, one line each."""
    for side, a in checks:
        if a["worst"] and a["max_err"] > 0:
            w = a["worst"]
            print(f"  worst {side}: {w['metric']}/{w['module']} {w['where']} [{w['i']},{w['j']}] "
                  f"{w['reference']!r} vs {w['tvgeo']!r}" + (f" ({w['runs']})" if w.get("runs") else ""))
        for prob in a["problems"]:
            print(f"  {side}: {prob}")


def print_fft_table(key: str, res: dict) -> None:
    p = res["params"]
    print(f"\n### {key}: full fine-tuning, {len(p['tasks'])} MiniLM checkpoints ({', '.join(p['tasks'])}) × "
          f"{p['blocks']} blocks (6 layers × query, value; 384 × 384), F32  [{p['data']}]")
    head = f"{'side':<9} {'runs':>4} {'wall s':>9} {'CPU s':>9} {'CPU/wall':>8} {'threads':>7} " \
           f"{'peak RSS MB':>12} {'time ×tvgeo':>12} {'CPU ×tvgeo':>11}  agreement with tvgeo, every run"
    print(head)
    print("-" * len(head))
    for side in ("tvgeo", "dense", "dense1"):
        s = res["sides"][side]
        rss = "—" if s["peak_rss_mb"] is None else f"{s['peak_rss_mb']:.1f}"
        cw = "—" if s.get("cpu_per_wall") is None else f"{s['cpu_per_wall']:.2f}"
        tr = "—" if s.get("time_ratio") is None else f"{s['time_ratio']:.1f}"
        cr = "—" if s.get("cpu_ratio") is None else f"{s['cpu_ratio']:.1f}"
        if side == "tvgeo":
            agr = "(reference point)" if s["ok"] else "FAILED"
        else:
            agr = fmt_agreement(res["agreement"][side]) if side in res["agreement"] else ("—" if s["ok"] else "FAILED")
        print(f"{side:<9} {len(s['runs']):>4} {fmt_time(s['wall_s']):>9} {fmt_time(s.get('cpu_s')):>9} {cw:>8} "
              f"{threads_label(s.get('threads')):>7} {rss:>12} {tr:>12} {cr:>11}  {agr}")
    print(f"  tvgeo: {res['sides']['tvgeo']['command']}")
    for side in ("dense", "dense1"):
        print(f"  {side}: {res['sides'][side]['command']} (OpenBLAS threads: {res['sides'][side]['threads']['blas_how']})")
    print("wall s / CPU s: medians over the runs; time ×tvgeo = median wall ÷ tvgeo's median wall (same run)")
    print_agreement(res["agreement"].items())
    if res["targets"]:
        print(f"targets ({TARGETS['fft']}):")
        for k, v in res["targets"].items():
            print(f"  {'met' if v else 'NOT MET':>7}  {k}")


# --------------------------------------------------------------------------
# printing
# --------------------------------------------------------------------------


def fmt_time(x):
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_agreement(a: dict) -> str:
    n = a.get("comparisons", 1)
    if a["agree"]:
        verdict = "agree"
    elif a["failures"]:
        verdict = f"DISAGREE ({a['failures']} entries"
        verdict += f" in {a['disagreeing_comparisons']} of {n} run pairs)" if n > 1 else ")"
    else:
        verdict = "DISAGREE (see below)"
    out = f"{a['max_err']:.1e}  {verdict}, {a['entries']} entries"
    if n > 1:
        out += f" × {n} run pairs"
    if a["null_mismatches"]:
        out += f", {a['null_mismatches']} null mismatches"
    return out


def print_table(name: str, res: dict) -> None:
    p = res["params"]
    print(f"\n### {name}: {p['adapters']} adapters × {p['layers']} layers × "
          f"{len(p['modules'])} modules ({', '.join(p['modules'])}), d = {p['d']}, r = {p['r']}, "
          f"{p['dtype']}  [{res['tasks_dir']}]")
    head = f"{'side':<9} {'runs':>4} {'wall s':>9} {'CPU s':>9} {'CPU/wall':>8} {'threads':>7} " \
           f"{'peak RSS MB':>12} {'time ×tvgeo':>12} {'mem ×tvgeo':>11}  " \
           f"agreement with tvgeo, every run (max rel diff, abs floor 1e-12)"
    print(head)
    print("-" * len(head))
    for side in ("tvgeo", "lowrank", "naive"):
        if side not in res["sides"]:
            continue
        s = res["sides"][side]
        runs = len(s["runs"])
        rss = "—" if s["peak_rss_mb"] is None else f"{s['peak_rss_mb']:.1f}"
        tr = s.get("time_ratio")
        mr = s.get("memory_ratio")
        tr_s = "—" if tr is None else (f"{tr:.1f}" if tr < 100 else f"{tr:.0f}")
        mr_s = "—" if mr is None else f"{mr:.2f}"
        cw = "—" if s.get("cpu_per_wall") is None else f"{s['cpu_per_wall']:.2f}"
        if side == "tvgeo":
            agr = "(reference point)" if s["ok"] else "FAILED"
        elif side in res["agreement"]:
            agr = fmt_agreement(res["agreement"][side])
            if not s["ok"]:
                agr += "; a run FAILED"
        else:
            agr = "—" if s["ok"] else "FAILED"
        print(f"{side:<9} {runs:>4} {fmt_time(s['wall_s']):>9} {fmt_time(s.get('cpu_s')):>9} {cw:>8} "
              f"{threads_label(s.get('threads')):>7} {rss:>12} {tr_s:>12} {mr_s:>11}  {agr}")
    if res.get("report"):
        rep = res["report"]
        rss = "—" if rep["peak_rss_mb"] is None else f"{rep['peak_rss_mb']:.1f}"
        cw = "—" if rep.get("cpu_per_wall") is None else f"{rep['cpu_per_wall']:.2f}"
        print(f"{'report':<9} {len(rep['runs']):>4} {fmt_time(rep['wall_s']):>9} "
              f"{fmt_time(rep.get('cpu_s')):>9} {cw:>8} {'':>7} {rss:>12}  "
              f"(tvgeo report, every format: html, pdf, tex, svg, png, json, csv)"
              + ("" if rep["ok"] else "; a run FAILED"))
    print("wall s / CPU s: medians over the runs; CPU = user + sys of the process and its "
          "children (os.wait4); threads = workers × OpenBLAS threads each:")
    for side in ("tvgeo", "lowrank", "naive"):
        t = res["sides"].get(side, {}).get("threads")
        if t:
            print(f"  {side:<8} workers {t['workers']}: {t['workers_how']}; "
                  f"OpenBLAS threads: {t['blas_how']}")
    g = res["gemm_bound"]
    line = (f"GEMM-bound limit: {g['flops'] / 1e9:.1f} GFlop (2·(d_out+d_in)·(N·r)² over "
            f"{g['blocks']} blocks) / {g['dgemm_gflops']:.1f} GFlop/s dgemm "
            f"({g['gram_shape'][0]}×{g['gram_shape'][1]} @ {g['gram_shape'][1]}×{g['gram_shape'][0]}, "
            f"{g.get('dgemm_threads_how', '?')}) = {fmt_time(g['limit_s'])} s")
    if "tvgeo_over_limit" in g:
        line += f"; tvgeo / limit = {g['tvgeo_over_limit']:.2f}"
    print(line)
    lvn = res.get("agreement_lowrank_vs_naive")
    if lvn:
        print(f"lowrank vs naive (every lowrank run): max rel diff {fmt_agreement(lvn)}")
    dc = res.get("dense_check")
    if dc:
        where = ", ".join(f"{b['module']} layer {b['layer']}" for b in dc["blocks"])
        print(f"dense check (ΔW = s·B·A formed in float64, NumPy/SciPy; tasks {', '.join(dc['tasks'])}; "
              f"{where}; {dc['seconds']:.0f} s) vs every tvgeo run: {fmt_agreement(dc)}")
    checks = list(res["agreement"].items())
    if lvn:
        checks.append(("lowrank vs naive", lvn))
    if dc:
        checks.append(("dense", dc))
    print_agreement(checks)
    if res["targets"]:
        binding = res.get("targets_binding", True)
        print(f"targets ({TARGETS.get(name.split('-')[0], '')})"
              + ("" if binding else " — shrunken workload: for information, not checked") + ":")
        for k, v in res["targets"].items():
            print(f"  {'met' if v else ('NOT MET' if binding else 'not met'):>7}  {k}")


def failures_of(report: dict) -> list[str]:
    """Why the benchmark fails: failed runs, disagreements, targets not met."""
    out = []
    for key, r in report["workloads"].items():
        for side, s in r["sides"].items():
            if not s["ok"]:
                bad = sum(1 for run in s["runs"] if run["exit_code"] != 0)
                out.append(f"{key}: {bad} of {len(s['runs'])} {side} runs failed")
        if r.get("report") and not r["report"]["ok"]:
            out.append(f"{key}: a tvgeo report run failed")
        for side, a in r["agreement"].items():
            if not a["agree"]:
                out.append(f"{key}: tvgeo and {side} disagree ({a['disagreeing_comparisons']} of "
                           f"{a['comparisons']} run pairs)")
        if "tvgeo" in r["sides"] and r["sides"]["tvgeo"]["ok"]:
            for side in r["sides"]:
                if side != "tvgeo" and r["sides"][side]["ok"] and side not in r["agreement"]:
                    out.append(f"{key}: no comparison of tvgeo with {side}")
        lvn = r.get("agreement_lowrank_vs_naive")
        if lvn and not lvn["agree"]:
            out.append(f"{key}: the references lowrank and naive disagree")
        dc = r.get("dense_check")
        if dc and not dc["agree"]:
            out.append(f"{key}: tvgeo and the dense check disagree")
        if r.get("targets_binding", True):
            for t, met in r["targets"].items():
                if not met:
                    out.append(f"{key}: target NOT MET: {t}")
    return out


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default="seed,wide,fft",
                    help="comma-separated, from: " + ",".join(sorted(generate_workloads.WORKLOADS) + ["fft"])
                         + " (fft: tvgeo analyze --base against the dense NumPy/SciPy path on real MiniLM checkpoints)")
    ap.add_argument("--fft-data", default=FFT_DATA, metavar="DIR",
                    help="folder with base.safetensors and the checkpoints " + ", ".join(FFT_TASKS)
                         + " (default: the committed Tests/Fixtures/real/minilm-fullft)")
    ap.add_argument("--fft-repeats", type=int, default=3, help="runs of each side on fft (default 3)")
    ap.add_argument("--skip-naive", action="store_true", help="do not run the (slow) naive path")
    ap.add_argument("--adapters", type=int, help="shrink the workloads (quick iteration)")
    ap.add_argument("--layers", type=int, help="shrink the workloads (quick iteration)")
    ap.add_argument("--dense-blocks", type=int, default=2, metavar="B",
                    help="(module, layer) blocks of `wide` checked against dense ΔW (task00, task01, "
                         "task06; about three dense 4096×4096 SVDs per block); 0 skips (default 2)")
    ap.add_argument("--repeats", type=int, default=None, help="runs of tvgeo and lowrank on seed (default 9: a process of a few tens of ms is at the mercy of a shared machine, the median of 9 much less); with --scaling, runs of each side per N (default 3)")
    ap.add_argument("--scaling", metavar="N,N,...",
                    help="the scaling table instead (benchmarks/scaling.py): analyze, report and lowrank on the "
                         "`library` workload at each adapter count, e.g. 10,50,100,200,500,1000")
    ap.add_argument("--scaling-sides", metavar="SIDES",
                    help="with --scaling: which of analyze,report,lowrank to run (default all three)")
    args = ap.parse_args(argv)
    if args.scaling:
        if not os.path.exists(TVGEO):
            ap.error(f"{os.path.relpath(TVGEO, ROOT)} is missing: build it first (make build)")
        import scaling  # noqa: PLC0415
        return scaling.main_scaling(sys.modules[__name__], args.scaling, args.repeats, args.scaling_sides)
    if args.repeats is None:
        args.repeats = 9
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in names:
        if w not in generate_workloads.WORKLOADS and w != "fft":
            ap.error(f"unknown workload {w!r}")

    if not os.path.exists(TVGEO):
        print("building tvgeo (swift build -c release --static-swift-stdlib --product tvgeo, as make build does) ...", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "tvgeo"], cwd=ROOT, check=True)

    machine = machine_info()
    git = git_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM, "
          f"Linux {machine['kernel']}; Python {machine['python']}, NumPy {machine['numpy']}, "
          f"SciPy {machine['scipy']}, OpenBLAS {machine.get('blas', '?')}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}; "
          f"tvgeo: {os.path.relpath(TVGEO, ROOT)} (HEAD {git.get('commit', '?')[:10]}"
          f"{', sources modified' if git.get('sources_modified') else ''})")

    probes = {"here": blas_threads_here(), "lowrank": blas_threads_of("lowrank_numpy")}
    if "seed" in names and not args.skip_naive:
        probes["naive"] = blas_threads_of("naive_numpy")
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine, "git": git, "tolerance": {"rtol": RTOL, "atol": ATOL},
              "workloads": {}}
    t0 = time.perf_counter()
    if "fft" in names:
        probes["dense"] = blas_threads_of("reference_fullft", os.path.join(ROOT, "scripts"))
    for name in names:
        if name == "fft":
            report["workloads"]["fft"] = bench_fft(args, probes["dense"])
            continue
        repeats = args.repeats if name == "seed" else 1
        key = name if args.adapters is None and args.layers is None else \
            os.path.basename(generate_workloads.default_dir(name, args.adapters, args.layers))
        report["workloads"][key] = bench_workload(name, args, repeats, probes)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    for key, res in report["workloads"].items():
        if key == "fft":
            print_fft_table(key, res)
        else:
            print_table(key, res)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"benchmark took {time.perf_counter() - t0:.0f} s")

    failures = failures_of(report)
    report["failures"] = failures
    report["exit_status"] = 1 if failures else 0
    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, "latest.json")
    with open(out + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, allow_nan=False)
        fh.write("\n")
    os.replace(out + ".tmp", out)
    print(f"wrote {os.path.relpath(out, ROOT)}")
    if failures:
        print("\nFAILED (exit status 1):")
        for f in failures:
            print(f"  {f}")
        return 1
    unchecked = [t for r in report["workloads"].values() if not r.get("targets_binding", True)
                 for t in r["targets"]]
    print("\nall runs succeeded, every output agrees with the references, "
          + ("targets of shrunken workloads not checked" if unchecked else "every target is met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
