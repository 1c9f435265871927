#!/usr/bin/env python3
"""Benchmark tvgeo against the NumPy references.

    python3 benchmarks/run_bench.py [--workloads seed,wide] [--skip-naive]
                                    [--adapters N] [--layers L] [--repeats K]

(`make bench` builds tvgeo in release mode and runs this with the defaults.)

1. Generates the workloads that are missing (benchmarks/generate_workloads.py).
2. For each workload, runs every side the way a user runs it -- a fresh process,
   interpreter start-up included -- and measures whole-process wall time and
   peak RSS (os.wait4 on the child: ru_maxrss):
     naive    python3 benchmarks/naive_numpy.py    (seed only, once)
     lowrank  python3 benchmarks/lowrank_numpy.py  (9 runs on seed, 1 on wide)
     tvgeo    .build/release/tvgeo analyze --quiet (9 runs on seed, 1 on wide)
   Repeated runs are interleaved (tvgeo, lowrank, tvgeo, ...); the median wall
   time and the largest peak RSS are reported.  Before timing, every adapter
   file is read once so all sides start from a warm page cache.
3. Checks that every per-layer matrix and every layer mean of tvgeo's
   metrics.json agrees with each reference: |a − b| ≤ max(1e-9·max(|a|,|b|), 1e-12),
   and null exactly where the reference has null.
4. Measures this machine's dgemm rate (np.dot, float64, the Gram shape
   (N·r × d)·(d × N·r), NumPy's default threads, best of 5) and derives the
   GEMM-bound limit: Σ_blocks 2·(d_out + d_in)·(N·r)² flops / rate.
5. Prints one table per workload and writes everything to
   benchmarks/results/latest.json.

--adapters/--layers shrink every listed workload (quick iteration; the data go
to benchmarks/workloads/<name>-n<N>-l<L>/); --repeats overrides the number of
runs of tvgeo and lowrank on seed.
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

import numpy as np  # noqa: E402
import scipy  # noqa: E402

import generate_workloads  # noqa: E402
import lora_io  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12
RESULTS = os.path.join(HERE, "results")
TVGEO = os.path.join(ROOT, ".build", "release", "tvgeo")
TARGETS = {
    "seed": "tvgeo ≥ 1000× faster than naive and ≥ 5× faster than low-rank NumPy; the full report < 0.5 s",
    "wide": "tvgeo < 60 s, ≤ 2× the GEMM-bound limit, peak RSS < 2 GB, faster than low-rank NumPy",
    "big": "peak RSS < 1 GB on two 2.1 GB adapters (not in the default run: --workloads big)",
}


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
    """Run cmd as a fresh process; its wall time and peak RSS (os.wait4 on the
    Popen pid, ru_maxrss in KB), measured by the helper above."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    helper = subprocess.run([sys.executable, "-I", "-S", "-c", _RUNNER,
                             json.dumps([cmd, ROOT, log_path])],
                            capture_output=True, text=True, check=True)
    res = json.loads(helper.stdout)
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
# agreement
# --------------------------------------------------------------------------


def compare(ref_path: str, tv_path: str) -> dict:
    """Every per-layer matrix and mean of tvgeo vs a reference."""
    with open(ref_path, encoding="utf-8") as fh:
        ref = json.load(fh)
    with open(tv_path, encoding="utf-8") as fh:
        tv = json.load(fh)
    res = {"entries": 0, "failures": 0, "null_mismatches": 0, "max_err": 0.0,
           "max_rel_nonzero": 0.0, "worst": None, "per_metric": {}, "problems": []}
    if ref["tasks"] != tv["tasks"]:
        res["problems"].append(f"tasks differ: {ref['tasks']} vs {tv['tasks']}")
    if ref["modules"] != tv["modules"]:
        res["problems"].append(f"modules differ: {ref['modules']} vs {tv['modules']}")
    for metric, mods in ref["distances"].items():
        pm = res["per_metric"].setdefault(metric, 0.0)
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
                        res["entries"] += 1
                        if (a is None) != (b is None):
                            res["null_mismatches"] += 1
                            res["failures"] += 1
                            if len(res["problems"]) < 10:
                                res["problems"].append(f"{metric}/{mod} {where} [{i},{j}]: {a} vs {b}")
                            continue
                        if a is None:
                            continue
                        big = max(abs(a), abs(b))
                        diff = abs(a - b)
                        # error relative to max(|a|, |b|), with the absolute floor ATOL
                        err = diff / max(big, ATOL / RTOL)
                        if big > 0:
                            res["max_rel_nonzero"] = max(res["max_rel_nonzero"], diff / big)
                        pm = max(pm, err)
                        if err > RTOL:
                            res["failures"] += 1
                        if err > res["max_err"]:
                            res["max_err"] = err
                            res["worst"] = {"metric": metric, "module": mod, "where": where,
                                            "i": i, "j": j, "reference": a, "tvgeo": b}
        res["per_metric"][metric] = pm
    res["agree"] = res["failures"] == 0 and not res["problems"]
    return res


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


def bench_workload(name: str, args, repeats: int) -> dict:
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
    outputs = {}
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
                print(f" {r['wall_s']:.3f} s, {r['peak_rss_kb'] / 1024:.0f} MB", flush=True)
                outputs.setdefault(side, side_output(side, out))
            else:
                print(f" FAILED (exit {r['exit_code']}; see {r['log']})", flush=True)
                with open(log, encoding="utf-8", errors="replace") as fh:
                    tail = fh.read()[-2000:]
                print("    " + tail.replace("\n", "\n    "), flush=True)

    result = {"params": p, "tasks_dir": os.path.relpath(os.path.dirname(tasks[0]), ROOT),
              "sides": {}, "agreement": {}}
    for side in sides:
        ok = [r for r in runs[side] if r["exit_code"] == 0]
        result["sides"][side] = {
            "command": " ".join(side_command(side, [tasks_rel[0], "..."], "OUT")).replace(ROOT + "/", ""),
            "runs": runs[side],
            "wall_s": statistics.median(r["wall_s"] for r in ok) if ok else None,
            "peak_rss_mb": max(r["peak_rss_kb"] for r in ok) / 1024 if ok else None,
            "ok": len(ok) == len(runs[side]),
        }
    if "tvgeo" in outputs:
        for side in sides:
            if side != "tvgeo" and side in outputs:
                result["agreement"][side] = compare(outputs[side], outputs["tvgeo"])
        if "naive" in outputs and "lowrank" in outputs:
            # the two references against each other (same tolerance): validates lowrank
            result["agreement_lowrank_vs_naive"] = compare(outputs["naive"], outputs["lowrank"])

    if name == "seed":
        # The full report (every format) as the README's main command writes it.
        report_runs = []
        for k in range(repeats):
            out = os.path.join(run_dir, f"report-{k + 1}")
            cmd = [TVGEO, "report", "--quiet", "--out", os.path.relpath(out, ROOT), *tasks_rel]
            print(f"  tvgeo report run {k + 1}/{repeats} ...", end="", flush=True)
            r = run_child(cmd, os.path.join(run_dir, f"report-{k + 1}.log"))
            report_runs.append(r)
            print(f" {r['wall_s']:.3f} s" if r["exit_code"] == 0 else f" FAILED (exit {r['exit_code']})", flush=True)
        ok = [r for r in report_runs if r["exit_code"] == 0]
        result["report"] = {"runs": report_runs, "ok": len(ok) == len(report_runs),
                            "wall_s": statistics.median(r["wall_s"] for r in ok) if ok else None,
                            "peak_rss_mb": max(r["peak_rss_kb"] for r in ok) / 1024 if ok else None}

    work = gemm_work(tasks)
    rate = dgemm_rate(*work["gram_shape"])
    result["gemm_bound"] = {
        "flops": work["flops"], "blocks": work["blocks"],
        "gram_shape": list(work["gram_shape"]), "dgemm_gflops": rate / 1e9,
        "limit_s": work["flops"] / rate,
    }
    tv = result["sides"]["tvgeo"]["wall_s"]
    if tv:
        result["gemm_bound"]["tvgeo_over_limit"] = tv / result["gemm_bound"]["limit_s"]
        for side in sides:
            s = result["sides"][side]
            if side != "tvgeo" and s["wall_s"]:
                s["time_ratio"] = s["wall_s"] / tv
                s["memory_ratio"] = s["peak_rss_mb"] / result["sides"]["tvgeo"]["peak_rss_mb"]
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
# printing
# --------------------------------------------------------------------------


def fmt_time(x):
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def print_table(name: str, res: dict) -> None:
    p = res["params"]
    print(f"\n### {name}: {p['adapters']} adapters × {p['layers']} layers × "
          f"{len(p['modules'])} modules ({', '.join(p['modules'])}), d = {p['d']}, r = {p['r']}, "
          f"{p['dtype']}  [{res['tasks_dir']}]")
    head = f"{'side':<9} {'runs':>4} {'wall s':>9} {'peak RSS MB':>12} {'time ×tvgeo':>12} " \
           f"{'mem ×tvgeo':>11}  agreement with tvgeo (max rel diff, abs floor 1e-12)"
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
        if side == "tvgeo":
            agr = "(reference point)" if s["ok"] else "FAILED"
        elif side in res["agreement"]:
            a = res["agreement"][side]
            verdict = "agree" if a["agree"] else f"DISAGREE ({a['failures']} entries)"
            agr = f"{a['max_err']:.1e}  {verdict}, {a['entries']} entries"
            if a["null_mismatches"]:
                agr += f", {a['null_mismatches']} null mismatches"
        else:
            agr = "—" if s["ok"] else "FAILED"
        name_s = {"tvgeo": "tvgeo", "lowrank": "lowrank", "naive": "naive"}[side]
        print(f"{name_s:<9} {runs:>4} {fmt_time(s['wall_s']):>9} {rss:>12} {tr_s:>12} {mr_s:>11}  {agr}")
    if res.get("report"):
        rep = res["report"]
        rss = "—" if rep["peak_rss_mb"] is None else f"{rep['peak_rss_mb']:.1f}"
        print(f"{'report':<9} {len(rep['runs']):>4} {fmt_time(rep['wall_s']):>9} {rss:>12}  "
              f"(tvgeo report, every format: html, pdf, tex, svg, png, json, csv)")
    g = res["gemm_bound"]
    line = (f"GEMM-bound limit: {g['flops'] / 1e9:.1f} GFlop (2·(d_out+d_in)·(N·r)² over "
            f"{g['blocks']} blocks) / {g['dgemm_gflops']:.1f} GFlop/s dgemm "
            f"({g['gram_shape'][0]}×{g['gram_shape'][1]} @ {g['gram_shape'][1]}×{g['gram_shape'][0]}) "
            f"= {fmt_time(g['limit_s'])} s")
    if "tvgeo_over_limit" in g:
        line += f"; tvgeo / limit = {g['tvgeo_over_limit']:.2f}"
    print(line)
    lvn = res.get("agreement_lowrank_vs_naive")
    if lvn:
        print(f"lowrank vs naive: max rel diff {lvn['max_err']:.1e} "
              f"({'agree' if lvn['agree'] else 'DISAGREE'})")
    for side, a in res["agreement"].items():
        if a["worst"] and a["max_err"] > 0:
            w = a["worst"]
            print(f"  worst {side}: {w['metric']}/{w['module']} {w['where']} [{w['i']},{w['j']}] "
                  f"{w['reference']!r} vs tvgeo {w['tvgeo']!r}")
        for prob in a["problems"]:
            print(f"  {side}: {prob}")
    if res["targets"]:
        print(f"targets ({TARGETS.get(name.split('-')[0], '')}):")
        for k, v in res["targets"].items():
            print(f"  {'met' if v else 'NOT MET':>7}  {k}")


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default="seed,wide",
                    help="comma-separated, from: " + ",".join(sorted(generate_workloads.WORKLOADS)))
    ap.add_argument("--skip-naive", action="store_true", help="do not run the (slow) naive path")
    ap.add_argument("--adapters", type=int, help="shrink the workloads (quick iteration)")
    ap.add_argument("--layers", type=int, help="shrink the workloads (quick iteration)")
    ap.add_argument("--repeats", type=int, default=9, help="runs of tvgeo and lowrank on seed (default 9: a process of a few tens of ms is at the mercy of a shared machine, the median of 9 much less)")
    args = ap.parse_args(argv)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in names:
        if w not in generate_workloads.WORKLOADS:
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

    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine, "git": git, "tolerance": {"rtol": RTOL, "atol": ATOL},
              "workloads": {}}
    t0 = time.perf_counter()
    for name in names:
        repeats = args.repeats if name == "seed" else 1
        key = name if args.adapters is None and args.layers is None else \
            os.path.basename(generate_workloads.default_dir(name, args.adapters, args.layers))
        report["workloads"][key] = bench_workload(name, args, repeats)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    for key, res in report["workloads"].items():
        print_table(key, res)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"benchmark took {time.perf_counter() - t0:.0f} s")

    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, "latest.json")
    with open(out + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, allow_nan=False)
        fh.write("\n")
    os.replace(out + ".tmp", out)
    print(f"wrote {os.path.relpath(out, ROOT)}")

    ok = all(s["ok"] for r in report["workloads"].values() for s in r["sides"].values()) and \
        all(a["agree"] for r in report["workloads"].values() for a in r["agreement"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
