"""The scaling table (issue 16): how tvgeo's cost grows with the number of adapters N.

    python3 benchmarks/run_bench.py --scaling 10,50,100,200,500,1000 [--repeats 3]
                                    [--scaling-sides analyze,report,lowrank]

For each N, the `library` workload with N adapters (benchmarks/generate_workloads.py: d 768,
r 8, query/value, 12 layers, F32) is generated if missing, read once (warm page cache), then
each side runs --repeats times, interleaved, as a fresh process (run_bench.run_child: wall time,
CPU = user + sys, peak RSS = ru_maxrss of the child):

  analyze  .build/release/tvgeo analyze --quiet --out OUT DIR/task00 ...
  report   .build/release/tvgeo report --quiet --out OUT DIR/task00 ...   (every format)
  lowrank  python3 benchmarks/lowrank_numpy.py DIR/task00 ... --out OUT.npz   (arrays, not JSON)

Reported per N: the median wall time, median CPU time and the largest peak RSS of each side;
lowrank / analyze; and the sizes of the last run's outputs: metrics.json (and layers.safetensors
when tvgeo writes one) of analyze, report.html, report.pdf (bytes and pages, pdfinfo) and the
whole report folder.  Outputs are deleted after each run except the last of each side and N.

Then, per side, the dominant cost term: the median wall times are fitted (non-negative least
squares, relative residuals, SciPy's nnls) by t(N) = c0 + c1·N + c2·N² + c3·N³ — start-up, what
grows with the adapters (reading, QR, per-task rows), what grows with the pairs (the pair kernel
and the Gram products, pairs × blocks), and what grows faster (an O(N³) step such as a full
eigendecomposition or a naive clustering of N × N matrices) — and each term's share of the
fitted time at the largest N is printed, with the largest named.  For analyze, the part of the
N² term that the Gram products alone need at this machine's dgemm rate (2·(d_out + d_in)·(N·r)²
flops per block, run_bench.dgemm_rate) is printed next to it, so that "pairs × blocks" can be
split into Grams and the rest of the pair kernel.

Results: benchmarks/results/scaling.json (and the per-run logs and kept outputs under
benchmarks/results/runs/scaling/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import numpy as np

import generate_workloads

SIDES = ("analyze", "report", "lowrank")
WORKLOAD = "library"


def side_command(bench, side: str, tasks: list[str], out: str) -> list[str]:
    if side == "analyze":
        return [bench.TVGEO, "analyze", "--quiet", "--out", out, *tasks]
    if side == "report":
        return [bench.TVGEO, "report", "--quiet", "--out", out, *tasks]
    return [bench.sys.executable, os.path.join("benchmarks", "lowrank_numpy.py"), *tasks, "--out", out, "--quiet"]


def pdf_pages(path: str) -> int | None:
    try:
        out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def folder_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def file_bytes(path: str) -> int | None:
    return os.path.getsize(path) if os.path.isfile(path) else None


def output_sizes(side: str, out: str) -> dict:
    if side == "analyze":
        return {"metrics_json_bytes": file_bytes(os.path.join(out, "metrics.json")),
                "layers_safetensors_bytes": file_bytes(os.path.join(out, "layers.safetensors")),
                "folder_bytes": folder_bytes(out)}
    if side == "report":
        pdf = os.path.join(out, "report.pdf")
        return {"report_html_bytes": file_bytes(os.path.join(out, "report.html")),
                "report_pdf_bytes": file_bytes(pdf),
                "report_pdf_pages": pdf_pages(pdf) if os.path.isfile(pdf) else None,
                "metrics_json_bytes": file_bytes(os.path.join(out, "metrics.json")),
                "folder_bytes": folder_bytes(out)}
    return {"npz_bytes": file_bytes(out)}


def remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def fit_terms(ns: list[int], times: list[float]) -> dict | None:
    """t(N) = c0 + c1·N + c2·N² + c3·N³ with c ≥ 0, fitted on relative residuals (each
    point weighted by 1/t, so the small N count as much as the large); the terms' shares of
    the fitted time at the largest N."""
    from scipy.optimize import nnls  # noqa: PLC0415
    pts = [(n, t) for n, t in zip(ns, times) if t]
    if len(pts) < 3:
        return None
    n = np.array([p[0] for p in pts], dtype=float)
    t = np.array([p[1] for p in pts], dtype=float)
    powers = np.vstack([n ** k for k in range(4)]).T
    coef, _ = nnls(powers / t[:, None], np.ones_like(t))
    top = n.max()
    parts = coef * top ** np.arange(4)
    fitted = parts.sum()
    names = ["constant (start-up)", "∝ N (per adapter: reading, QR, rows)",
             "∝ N² (pairs × blocks: pair kernel, Grams, N×N outputs)", "∝ N³ (an O(N³) step on N×N matrices)"]
    shares = {names[k]: float(parts[k] / fitted) if fitted > 0 else 0.0 for k in range(4)}
    worst = float(np.max(np.abs(powers @ coef - t) / t))
    return {"coefficients": [float(c) for c in coef], "at_n": int(top), "fitted_s": float(fitted), "points": len(pts),
            "shares": shares, "dominant": max(shares, key=shares.get), "max_relative_residual": worst}


def gram_seconds(n: int, rate: float) -> float:
    p = generate_workloads.workload_params(WORKLOAD, n, None)
    blocks = len(p["modules"]) * p["layers"]
    return blocks * 2 * (p["d"] + p["d"]) * (n * p["r"]) ** 2 / rate


def run_scaling(bench, ns: list[int], repeats: int, sides: list[str]) -> dict:
    run_root = os.path.join(bench.RESULTS, "runs", "scaling")
    os.makedirs(run_root, exist_ok=True)
    rows = []
    for n in ns:
        tasks = generate_workloads.ensure(WORKLOAD, adapters=n)
        tasks_rel = [os.path.relpath(t, bench.ROOT) for t in tasks]
        bench.warm_cache(tasks)
        run_dir = os.path.join(run_root, f"n{n}")
        remove(run_dir)
        os.makedirs(run_dir)
        print(f"\n== N = {n} ({len(sides)} sides × {repeats} runs) ==", flush=True)
        runs = {s: [] for s in sides}
        kept = {}
        for k in range(repeats):
            for side in sides:
                out = os.path.join(run_dir, f"{side}-{k + 1}" + (".npz" if side == "lowrank" else ""))
                cmd = side_command(bench, side, tasks_rel, os.path.relpath(out, bench.ROOT))
                print(f"  {side} run {k + 1}/{repeats} ...", end="", flush=True)
                r = bench.run_child(cmd, os.path.join(run_dir, f"{side}-{k + 1}.log"))
                runs[side].append(r)
                if r["exit_code"] == 0:
                    print(f" {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, {r['peak_rss_kb'] / 1024:.0f} MB",
                          flush=True)
                    if side in kept:
                        remove(kept[side])
                    kept[side] = out
                else:
                    print(f" FAILED (exit {r['exit_code']}; see {r['log']})", flush=True)
                    remove(out)
        row = {"n": n, "sides": {}}
        for side in sides:
            summary = bench.summarize_runs(runs[side])
            summary["outputs"] = output_sizes(side, kept[side]) if side in kept else None
            row["sides"][side] = summary
        rows.append(row)
    rate = None
    if "analyze" in sides:
        p = generate_workloads.workload_params(WORKLOAD, max(ns), None)
        rate = bench.dgemm_rate(max(ns) * p["r"], p["d"])
    fits = {}
    for side in sides:
        fits[side] = fit_terms([r["n"] for r in rows], [r["sides"][side]["wall_s"] for r in rows])
    if rate and fits.get("analyze"):
        fits["analyze"]["gram_s_at_n"] = gram_seconds(max(ns), rate)
        fits["analyze"]["dgemm_gflops"] = rate / 1e9
    return {"workload": WORKLOAD, "params": generate_workloads.workload_params(WORKLOAD, max(ns), None),
            "repeats": repeats, "sides": sides, "rows": rows, "fits": fits}


def fmt_mb(b) -> str:
    return "—" if b is None else f"{b / 1e6:.1f}"


def fmt_s(x) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def print_scaling(res: dict) -> list[str]:
    """Prints the table, growth ratios and fits; returns the lines (also for the README)."""
    sides = res["sides"]
    lines = []
    head = ["N"]
    for side in sides:
        head += [f"{side} s", f"{side} CPU s", f"{side} MB"]
    if "analyze" in sides and "lowrank" in sides:
        head.append("lowrank/analyze")
    if "analyze" in sides:
        head += ["metrics.json MB", "layers MB"]
    if "report" in sides:
        head += ["report.html MB", "report.pdf MB", "pages"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for row in res["rows"]:
        cells = [str(row["n"])]
        for side in sides:
            s = row["sides"][side]
            cells += [fmt_s(s["wall_s"]), fmt_s(s["cpu_s"]),
                      "—" if s["peak_rss_mb"] is None else f"{s['peak_rss_mb']:.0f}"]
        if "analyze" in sides and "lowrank" in sides:
            a, lr = row["sides"]["analyze"]["wall_s"], row["sides"]["lowrank"]["wall_s"]
            cells.append(f"{lr / a:.1f}" if a and lr else "—")
        if "analyze" in sides:
            o = row["sides"]["analyze"]["outputs"] or {}
            cells += [fmt_mb(o.get("metrics_json_bytes")), fmt_mb(o.get("layers_safetensors_bytes"))]
        if "report" in sides:
            o = row["sides"]["report"]["outputs"] or {}
            pages = o.get("report_pdf_pages")
            cells += [fmt_mb(o.get("report_html_bytes")), fmt_mb(o.get("report_pdf_bytes")),
                      "—" if pages is None else str(pages)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    rows = res["rows"]
    for a, b in zip(rows, rows[1:]):
        growth = []
        for side in sides:
            ta, tb = a["sides"][side]["wall_s"], b["sides"][side]["wall_s"]
            if ta and tb:
                growth.append(f"{side} ×{tb / ta:.1f}")
        lines.append(f"N {a['n']} → {b['n']} (×{b['n'] / a['n']:.1f}, pairs ×{(b['n'] / a['n']) ** 2:.1f}): "
                     + ", ".join(growth))
    lines.append("")
    for side, fit in res["fits"].items():
        if not fit:
            continue
        shares = ", ".join(f"{name} {share:.0%}" for name, share in fit["shares"].items() if share >= 0.005)
        loose = "; fewer than 5 sizes: loosely determined" if fit["points"] < 5 else ""
        line = (f"{side}: t(N) fitted as c0 + c1·N + c2·N² + c3·N³ (worst relative residual "
                f"{fit['max_relative_residual']:.0%}{loose}); at N = {fit['at_n']}: {shares}; dominant: {fit['dominant']}")
        if "gram_s_at_n" in fit:
            line += (f". The Gram products alone need {fmt_s(fit['gram_s_at_n'])} s there at "
                     f"{fit['dgemm_gflops']:.1f} GFlop/s dgemm")
        lines.append(line)
    for line in lines:
        print(line)
    return lines


def main_scaling(bench, scaling: str, repeats: int | None, sides_arg: str | None) -> int:
    ns = sorted({int(x) for x in scaling.split(",") if x.strip()})
    if not ns or ns[0] < 2:
        raise SystemExit("--scaling: a comma-separated list of adapter counts, each at least 2")
    sides = [s.strip() for s in (sides_arg or ",".join(SIDES)).split(",") if s.strip()]
    for s in sides:
        if s not in SIDES:
            raise SystemExit(f"--scaling-sides: unknown side {s!r} (from {', '.join(SIDES)})")
    repeats = repeats or 3
    machine = bench.machine_info()
    git = bench.git_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM; load average "
          f"{' '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}; tvgeo HEAD "
          f"{git.get('commit', '?')[:10]}{', sources modified' if git.get('sources_modified') else ''}", flush=True)
    t0 = time.perf_counter()
    res = run_scaling(bench, ns, repeats, sides)
    machine["load_average_at_end"] = list(os.getloadavg())
    print()
    res["table"] = print_scaling(res)
    failures = [f"N = {row['n']}: a {side} run failed" for row in res["rows"]
                for side, s in row["sides"].items() if not s["ok"]]
    report = {"date": bench.datetime.datetime.now(bench.datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine, "git": git, "scaling": res, "failures": failures,
              "seconds": time.perf_counter() - t0}
    os.makedirs(bench.RESULTS, exist_ok=True)
    out = os.path.join(bench.RESULTS, "scaling.json")
    with open(out + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, allow_nan=False)
        fh.write("\n")
    os.replace(out + ".tmp", out)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"took {report['seconds']:.0f} s; wrote {os.path.relpath(out, bench.ROOT)}")
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0

