#!/usr/bin/env python3
"""Checks scripts/ray_analyze.py on a local Ray cluster (2 CPUs): the combined metrics.json and CSV files
equal one `tvgeo analyze` byte for byte, with and without the first attempt of part 2 killed mid-run
(its tvgeo SIGKILLed, then its Ray worker), which Ray must retry; and a missing adapter ends the run with
tvgeo's exit code 66, naming it.

    python scripts/test_ray_driver.py [--tvgeo .build/debug/tvgeo]

Needs ray (scripts/requirements-distributed.txt). Exit 0 when every check passes, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "minilm-glue8")
TASKS = ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"]


def outputs(folder):
    """metrics.json, layers.safetensors and the CSV tables of an output folder, name -> bytes."""
    files = {}
    for name in sorted(os.listdir(folder)):
        if name in ("metrics.json", "layers.safetensors") or name.endswith(".csv"):
            with open(os.path.join(folder, name), "rb") as handle:
                files[name] = handle.read()
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tvgeo", default=os.path.join(ROOT, ".build", "debug", "tvgeo"))
    arguments = parser.parse_args()
    tvgeo = os.path.abspath(arguments.tvgeo)
    adapters = [os.path.join(EXAMPLE, "adapters", task) for task in TASKS]
    scores = os.path.join(EXAMPLE, "scores.csv")
    failures = []
    with tempfile.TemporaryDirectory(prefix="tvgeo-ray-") as work:
        single = os.path.join(work, "single")
        subprocess.run([tvgeo, "analyze", "--quiet", *adapters, "--scores", scores, "--out", single], check=True)
        expected = outputs(single)
        if "metrics.json" not in expected or len(expected) < 2:
            failures.append(f"tvgeo analyze wrote {sorted(expected)}")
        driver = [sys.executable, os.path.join(ROOT, "scripts", "ray_analyze.py"), *adapters, "--parts", "4",
                  "--num-cpus", "2", "--scores", scores, "--tvgeo", tvgeo]
        for label, extra in [("plain", []), ("killed", ["--kill-first-attempt", "2"])]:
            out = os.path.join(work, label)
            result = subprocess.run(driver + ["--out", out] + extra)
            if result.returncode != 0:
                failures.append(f"{label}: ray_analyze.py exited {result.returncode}")
                continue
            got = outputs(out)
            if sorted(got) != sorted(expected):
                failures.append(f"{label}: files {sorted(got)}, expected {sorted(expected)}")
            failures += [f"{label}: {name} differs from tvgeo analyze" for name in expected if got.get(name) != expected[name]]
            if extra:
                marker = os.path.join(out + ".parts", ".kill-part-2")
                log = open(marker).read() if os.path.exists(marker) else ""
                if "killed mid-run" not in log or "retried part 2/4" not in log:
                    failures.append(f"{label}: part 2 was not killed and retried (marker: {log!r})")
                else:
                    print("test_ray_driver: " + log.replace("\n", "; ").rstrip("; "))
        # A part tvgeo refuses is not retried: the driver exits with tvgeo's code (66: an input is missing).
        missing = subprocess.run(driver[:2] + adapters[:3] + [os.path.join(work, "no-such-adapter")] + driver[2 + len(adapters):]
                                 + ["--out", os.path.join(work, "missing")], stderr=subprocess.PIPE, text=True)
        if missing.returncode != 66 or "no-such-adapter" not in missing.stderr:
            failures.append(f"missing adapter: exit {missing.returncode}, expected 66 naming it; stderr {missing.stderr[-400:]!r}")
    for failure in failures:
        print("test_ray_driver: FAILED: " + failure, file=sys.stderr)
    if not failures:
        print("test_ray_driver: the Ray driver's metrics.json and CSVs equal tvgeo analyze's, also with part 2 killed and retried; a missing adapter exits 66")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
