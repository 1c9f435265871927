#!/usr/bin/env python3
"""Run `tvgeo analyze` split into parts on a Ray cluster, then `tvgeo combine` the parts.

    python scripts/ray_analyze.py ADAPTER... --parts N --out DIR [--address ADDR] [--scores F] [--tvgeo PATH]

One Ray task per part runs the tvgeo binary (`tvgeo analyze ADAPTER... --part K/N --out WORK/part-K-of-N`)
on a node that sees the adapter files (a shared file system, or object storage mounted as files). A task
whose worker dies or whose tvgeo is killed by a signal is retried by Ray (--max-retries); a part that tvgeo
refuses (a usage or data error, exit 64-73) is not retried, since it would fail the same way again. Parts
are idempotent, so a retried part rewrites the same bytes. When every part is done, the driver runs
`tvgeo combine` on them into DIR: the same metrics.json and CSV files, byte for byte, as one
`tvgeo analyze ADAPTER... --out DIR` (with --report, what `tvgeo report` writes).

Adapter paths are made absolute (tasks may run in another working directory), so metrics.json records the
absolute paths. Exit status: tvgeo's own (64 usage, 65 bad data, 66 missing input, 73 cannot write) when a
part or the combine fails, 1 when a part still fails after its retries, 0 on success.

--kill-first-attempt K is for tests: the first attempt of part K starts tvgeo, kills it (SIGKILL) and then
kills its own Ray worker, as a machine failing mid-part would; Ray then retries the part.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", metavar="ADAPTER", help="adapter folders or .safetensors files, optionally name=path")
    parser.add_argument("--parts", type=int, required=True, help="number of parts (Ray tasks)")
    parser.add_argument("--out", required=True, help="output folder of the combined study")
    parser.add_argument("--address", help="Ray cluster address (default: start a local cluster)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local cluster (default: all; ignored with --address)")
    parser.add_argument("--scores", help="evaluation scores CSV, passed to tvgeo combine")
    parser.add_argument("--modules", help="modules to compare (tvgeo's --modules)")
    parser.add_argument("--report", action="store_true", help="write the full report (tvgeo combine --report)")
    parser.add_argument("--tvgeo", help="the tvgeo binary every node runs (default: tvgeo on PATH)")
    parser.add_argument("--work", help="folder of the part folders, seen by every node (default: OUT.parts)")
    parser.add_argument("--max-retries", type=int, default=3, help="Ray retries of a part whose worker or tvgeo dies (default 3)")
    parser.add_argument("--cpus-per-part", type=float, default=1, help="CPUs Ray reserves for each part (default 1)")
    parser.add_argument("--kill-first-attempt", type=int, metavar="K", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.parts < 1:
        parser.error("--parts must be at least 1")
    return arguments


def absolute_adapter(argument):
    """`path` or `name=path` with the path made absolute; an argument naming no existing path is left as it is
    (tvgeo reports it)."""
    if os.path.exists(argument):
        return os.path.abspath(argument)
    name, equals, path = argument.rpartition("=")
    if equals and name and os.path.exists(path):
        return name + "=" + os.path.abspath(path)
    return argument


def find_tvgeo(given):
    path = given or shutil.which("tvgeo")
    if not path or not os.access(path, os.X_OK):
        sys.exit("ray_analyze: no tvgeo binary (give --tvgeo PATH or put tvgeo on PATH)")
    return os.path.abspath(path)


def run_part(tvgeo, adapters, extra, part, parts, folder, kill_marker):
    """Runs one part; returns (part, exit status, stderr). Raises (so that Ray retries) when tvgeo was killed."""
    command = [tvgeo, "analyze", "--quiet", *adapters, *extra, "--part", f"{part}/{parts}", "--out", folder]
    if kill_marker is not None and not os.path.exists(kill_marker):
        with open(kill_marker, "w") as marker:
            marker.write(f"first attempt of part {part}/{parts} killed mid-run (pid {os.getpid()})\n")
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process.send_signal(signal.SIGKILL)
        process.wait()
        os.kill(os.getpid(), signal.SIGKILL)
    if kill_marker is not None:
        with open(kill_marker, "a") as marker:
            marker.write(f"retried part {part}/{parts} (pid {os.getpid()})\n")
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode < 0:
        raise RuntimeError(f"tvgeo was killed by signal {-result.returncode} in part {part}/{parts}")
    return part, result.returncode, result.stderr


def main(argv=None):
    arguments = parse_arguments(argv)
    import ray

    tvgeo = find_tvgeo(arguments.tvgeo)
    adapters = [absolute_adapter(adapter) for adapter in arguments.adapters]
    extra = ["--modules", arguments.modules] if arguments.modules else []
    out = os.path.abspath(arguments.out)
    work = os.path.abspath(arguments.work or out.rstrip("/") + ".parts")
    os.makedirs(work, exist_ok=True)
    folders = [os.path.join(work, f"part-{part}-of-{arguments.parts}") for part in range(1, arguments.parts + 1)]

    started = time.monotonic()
    if arguments.address:
        ray.init(address=arguments.address)
    else:
        ray.init(num_cpus=arguments.num_cpus)
    task = ray.remote(run_part).options(max_retries=arguments.max_retries, retry_exceptions=[RuntimeError],
                                        num_cpus=arguments.cpus_per_part)
    pending = []
    for part, folder in enumerate(folders, start=1):
        marker = os.path.join(work, f".kill-part-{part}") if part == arguments.kill_first_attempt else None
        pending.append(task.remote(tvgeo, adapters, extra, part, arguments.parts, folder, marker))
    failed = None
    try:
        for part, status, stderr in ray.get(pending):
            sys.stderr.write(stderr)
            if status != 0 and failed is None:
                failed = status
                print(f"ray_analyze: part {part}/{arguments.parts} failed (tvgeo exit {status})", file=sys.stderr)
    except ray.exceptions.RayError as error:
        print(f"ray_analyze: a part failed after {arguments.max_retries} retries: {error}", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()
    if failed is not None:
        return failed
    parts_seconds = time.monotonic() - started

    command = [tvgeo, "combine", "--quiet", *folders, "--out", out]
    if arguments.scores:
        command += ["--scores", os.path.abspath(arguments.scores)]
    if arguments.report:
        command.append("--report")
    combined = subprocess.run(command)
    if combined.returncode != 0:
        return combined.returncode
    print(f"ray_analyze: {arguments.parts} parts in {parts_seconds:.1f} s, combined into {out} "
          f"in {time.monotonic() - started - parts_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
