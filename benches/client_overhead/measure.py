"""Client CPU per upload: each client runs with N=0 and N=200 uploads, five times each; the
CPU (user + system, from wait4) of the N=0 runs is start-up, so the per-upload cost is
(median CPU at 200 - median CPU at 0) / 200. Prints a Markdown row."""
import os
import statistics
import subprocess
import sys

url, replay, rust_bin, python = sys.argv[1:5]
here = os.path.dirname(os.path.abspath(__file__))
N, RUNS = 200, 5


def cpu(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"{cmd} failed with status {status}")
    return usage.ru_utime + usage.ru_stime


def per_upload(make):
    base = statistics.median(cpu(make(0)) for _ in range(RUNS))
    full = statistics.median(cpu(make(N)) for _ in range(RUNS))
    return (full - base) / N, base


rust, rust_start = per_upload(lambda n: [rust_bin, url, replay, str(n)])
py, py_start = per_upload(
    lambda n: [python, os.path.join(here, "py_upload.py"), url, replay, str(n)]
)
size = os.path.getsize(replay) / 1e6
print(
    f"| client CPU per upload ({size:.1f} MB replay, {N} uploads, median of {RUNS}) "
    f"| autochase {rust * 1e3:.2f} ms, python-ballchasing 0.5.4 {py * 1e3:.2f} ms: "
    f"ratio {rust / py:.3f} (start-up: {rust_start * 1e3:.0f} ms vs {py_start * 1e3:.0f} ms) "
    f"| ≤ 0.2× the Python client |"
)
