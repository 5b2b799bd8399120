#!/usr/bin/env python3
"""Build every test binary of the workspace once, then run them: the SQLite pass and the
PostgreSQL pass, one or a few binaries at a time (called by scripts/test, which sets up the tools and
the PostgreSQL cluster and exports their addresses).

Why not `cargo test` twice: `cargo test -p X` unifies features over fewer packages than
`cargo test --workspace`, so from a clean clone it compiles about 80 dependency crates a second
time (the Temporal SDK among them) — five minutes of CI for nothing. Here one
`cargo test --workspace --no-run` builds everything and the binaries run as cargo would run
them (working directory = the package's root).

Two lanes run side by side. The timed lane runs, one at a time and at normal priority, every
binary that drives the engine against second-scale deadlines (two of those at once on two cores
made them miss, and a worker whose workflow tasks take seconds hits an SDK panic). The background
lane runs, one at a time and at the lowest CPU priority (nice 19), the binaries that count no
deadline: unit tests, the CLI and draw tests, the replay, the fuzzer. The timed lane waits on
timers about half the time; the background lane only uses what it leaves idle, so the timed
binaries see nearly the CPU they would alone and the background ones finish in its shadow.

Each binary's output goes to target/test-logs/<pass>-<package>-<target>.log and is printed
whole when it ends, so parallel output never interleaves. Environment:
  QINGLING_TEST_SERIAL 1: one binary at a time, no background lane
  QINGLING_TEST_PASSES "sqlite,postgres" (default both)
Extra arguments go to every test binary (e.g. `-- --nocapture`, a test-name filter).
Exit status 0 when every binary passed.
"""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "target" / "test-logs"
TIMES = ROOT / "target" / "test-times.json"

# Packages whose tests touch the database, and the test targets that do not need a second
# pass (the browser tests exercise the pages' own scripts, which do not depend on the database).
PG_PACKAGES = {"qingling-activities", "qingling-tests"}
PG_SKIP_TARGETS = {"browser", "draw"}

# The engine-driving binaries that count no deadline: they go to the background lane with every
# binary outside qingling-tests (none of those starts a worker).
BACKGROUND_TARGETS = {"fuzz", "draw", "cli", "replay"}


def background(pkg, name):
    return pkg != "qingling-tests" or name in BACKGROUND_TARGETS


def lowest_priority():
    os.nice(19)


def say(msg):
    print(f"scripts/test: {msg}", file=sys.stderr, flush=True)


def build():
    """`cargo test --workspace --no-run`; returns ([(package, target, kind, exe, cwd)], the
    `qingling` binary), or None. Cargo builds the binary because the `qingling` package has an
    integration test (worker/tests/binary.rs), with the same dependency features as the tests."""
    cmd = ["cargo", "test", "--workspace", "--no-run", "--message-format=json-render-diagnostics"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    found = []
    qingling = None
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            if msg["target"]["kind"] == ["bin"] and msg["target"]["name"] == "qingling":
                qingling = msg["executable"]
            continue
        name = msg["target"]["name"]
        kind = msg["target"]["kind"][0]
        cwd = Path(msg["manifest_path"]).parent
        found.append((package_name(cwd), name, kind, msg["executable"], str(cwd)))
    rc = proc.wait()
    if rc != 0:
        return None
    return found, qingling


def package_name(cwd):
    """The package's name from its Cargo.toml (the artifact's package_id spelling varies)."""
    for line in (Path(cwd) / "Cargo.toml").read_text().splitlines():
        line = line.strip()
        if line.startswith("name") and "=" in line:
            return line.split("=", 1)[1].strip().strip('"')
    return Path(cwd).name


def has_doc_examples():
    """Whether a doc comment (`///` or `//!`) of the workspace opens a code block."""
    for path in ROOT.glob("*/**/*.rs"):
        if "target" in path.parts or ".tools" in path.parts:
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.lstrip()
            if (line.startswith("///") or line.startswith("//!")) and "```" in line:
                return True
    return False


def main():
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    serial = os.environ.get("QINGLING_TEST_SERIAL", "") not in ("", "0")
    passes = [p.strip() for p in os.environ.get("QINGLING_TEST_PASSES", "sqlite,postgres").split(",") if p.strip()]

    say("building every test binary (cargo test --workspace --no-run)")
    t0 = time.monotonic()
    built = build()
    if built is None:
        say("building the tests FAILED; no tests run")
        return 1
    binaries, qingling = built
    if qingling is None:
        say("the build did not produce the qingling binary (worker/tests/binary.rs makes cargo build it)")
        return 1
    say(f"built {len(binaries)} test binaries in {time.monotonic() - t0:.0f}s")

    runs = []
    for db in passes:
        for pkg, name, kind, exe, cwd in binaries:
            if db == "postgres" and (pkg not in PG_PACKAGES or name in PG_SKIP_TARGETS):
                continue
            env = dict(os.environ, QINGLING_TEST_DB=db, QINGLING_BIN=qingling)
            if db == "postgres":
                env.setdefault("QINGLING_FUZZ_REQUESTS", "1000")
            label = f"{db} {pkg} {kind} {name}"
            lane = "background" if background(pkg, name) and not serial else "timed"
            runs.append({"label": label, "key": f"{db}-{pkg}-{kind}-{name}", "exe": exe, "cwd": cwd, "env": env, "lane": lane})

    # Longest first (from the last run's times), so the lanes end together.
    try:
        times = json.loads(TIMES.read_text())
    except (OSError, ValueError):
        times = {}
    runs.sort(key=lambda r: -times.get(r["key"], 30.0))

    LOGS.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    queues = {"timed": [r for r in runs if r["lane"] == "timed"], "background": [r for r in runs if r["lane"] == "background"]}
    results = []
    cpus = {}

    def lane(name):
        queue = queues[name]
        while True:
            with lock:
                if not queue:
                    return
                run = queue.pop(0)
            log_path = LOGS / f"{run['key']}.log"
            start = time.monotonic()
            with open(log_path, "w") as log:
                proc = subprocess.Popen([run["exe"], *args], cwd=run["cwd"], env=run["env"],
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=lowest_priority if name == "background" else None)
                # wait4 gives the CPU time of this binary and of the children it reaped (dev
                # servers, the qingling binary, SMTP sinks): whether it waits or computes.
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                rc = proc.returncode
            took = time.monotonic() - start
            cpu = usage.ru_utime + usage.ru_stime
            with lock:
                results.append((run, rc, took))
                cpus[run["key"]] = cpu
                verdict = "ok" if rc == 0 else f"FAILED (exit {rc})"
                sys.stdout.write(f"\n===== {run['label']}: {verdict} in {took:.1f}s ({cpu:.0f}s of CPU) =====\n")
                sys.stdout.write(log_path.read_text(errors="replace"))
                sys.stdout.flush()

    say(f"running {len(runs)} test binaries ({', '.join(passes)}): {len(queues['timed'])} in the timed lane, "
        f"{len(queues['background'])} in the background lane (nice 19)")
    t1 = time.monotonic()
    threads = [threading.Thread(target=lane, args=(name,)) for name in queues]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t1

    times.update({run["key"]: round(took, 1) for run, _, took in results})
    try:
        TIMES.write_text(json.dumps(times, indent=1, sort_keys=True))
    except OSError:
        pass

    failed = [(run, rc) for run, rc, _ in results if rc != 0]
    print("\nscripts/test: per binary (slowest first):")
    for run, rc, took in sorted(results, key=lambda r: -r[2]):
        if took >= 1.0 or rc != 0:
            lane_tag = "bg " if run["lane"] == "background" else "   "
            print(f"  {took:7.1f}s  {cpus.get(run['key'], 0):5.0f}s cpu  {lane_tag}{'ok    ' if rc == 0 else 'FAILED'}  {run['label']}")
    print(f"scripts/test: {len(results)} binaries, {len(failed)} failed, {wall:.0f}s wall "
          f"({sum(t for _, _, t in results):.0f}s of test time)")
    for run, rc in failed:
        print(f"scripts/test: FAILED {run['label']} (exit {rc}); log: {LOGS / (run['key'] + '.log')}")

    # Doc-tests are not built by --no-run; same features, so nothing is compiled twice. With no
    # example in any doc comment there is nothing to run, and rustdoc would still take a minute.
    doc_rc = 0
    if "sqlite" in passes and not has_doc_examples():
        say("doc-tests: no example in any doc comment; skipped")
    elif "sqlite" in passes:
        say("doc-tests: cargo test --workspace --doc")
        doc_rc = subprocess.call(["cargo", "test", "--workspace", "--doc", "-q"], cwd=ROOT,
                                 env=dict(os.environ, QINGLING_TEST_DB="sqlite"), stdin=subprocess.DEVNULL)
    for db in passes:
        bad = sum(1 for run, _ in failed if run["label"].startswith(db + " "))
        print(f"scripts/test: {db} pass {'ok' if bad == 0 else f'FAILED ({bad} binaries)'}")
    return 1 if failed or doc_rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
