"""SIGKILL of the whole service during a training and during a save, on a real process: what it
serves after a restart, what it leaves on disk, and what becomes of the killed job and its lease.

`python -m bench.kills [--size 50000] [--kills 14]`

The demo data (bench/.data) in a SecantusDB child process of this script; the service as
`python -m app.server` (default workers) in a process group of its own, over one model store
(bench/.data/kills/models) kept across its restarts. For each planned kill: a training through
`POST /api/v1/<model>/train` (from this machine, so without a key), then SIGKILL to the whole
group at a chosen moment: a delay after the job's stage reads `reading` or `fitting`, or the
moment the store's save shows a step (its staging directory, the metadata in it, the renamed
version, the pointer's temporary file; polled every millisecond). The store is read as the kill
left it, the service restarted on it and checked: it serves every model; the killed model
answers with the version its `current` pointer names, never a partial one (no "refused" in
its log); leftovers stay unloaded. A training of the same model is asked for at once (the
killed job's lease still holds) and again once that lease expired (60 s). At the end: every
killed job reads `failed` ("Abandoned"); a training of the last killed model goes through to a
new version; leftovers, their times set back past SWEEP_AFTER_SECONDS, are swept at a restart.
Health is called every 50 ms throughout. Figures are printed and written to
bench/results/kills.json."""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.core.lifecycle.jobs import STALE_SECONDS
from app.core.lifecycle.lease import LEASE_SECONDS
from app.core.store.artifacts import METADATA, SWEEP_AFTER_SECONDS
from app.core.store.pointer import CURRENT
from app.dev import embedded
from bench.demo_db import seed
from bench.faults import Probe
from bench.serving import ROOT, free_port, percentiles, save_results, start_service

WORKDIR = ROOT / "bench" / ".data"
MODELS = ("forecast", "anomaly", "recommend")
_STAGES = ("reading", "fitting")  # aims read from the job; the others from the store


@dataclass(frozen=True)
class Kill:
    """Where to SIGKILL a training of `model`: `delay` seconds after its job's stage reads
    `aim` (`reading`, `fitting`), or after the store shows `aim`: `staging` (a staging
    directory exists), `staged` (its metadata file exists), `renamed` (a new version
    directory), `pointer` (the `current` pointer's temporary file)."""

    model: str
    aim: str
    delay: float = 0.0


# The three models in turn, so that a killed model's lease has expired when its turn comes again.
PLAN = (
    Kill("forecast", "fitting"),
    Kill("recommend", "staging"),
    Kill("anomaly", "staging"),
    Kill("forecast", "staging"),
    Kill("recommend", "staged"),
    Kill("anomaly", "renamed"),
    Kill("forecast", "fitting", 5),
    Kill("recommend", "pointer"),
    Kill("anomaly", "staged"),
    Kill("forecast", "renamed"),
    Kill("recommend", "staging", 0.005),
    Kill("anomaly", "reading", 1),
    Kill("forecast", "fitting", 10),
    Kill("recommend", "pointer"),
)


class Service:
    """The service over one store and database, restarted as often as it is killed; each start
    logs into a directory of its own."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url, self.workdir = url, workdir
        self.base = f"http://127.0.0.1:{(port := free_port())}"
        self._port = port
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_directory(self) -> Path:
        return self.workdir / f"start-{self.starts}"

    def start(self) -> None:
        self.starts += 1
        self.log_directory.mkdir(parents=True)
        self.process = start_service(
            self.url,
            self._port,
            self.log_directory,
            MODEL_SAVE_PATH=str(self.workdir / "models"),
            MODEL_SIGNING_KEY_FILE=str(self.workdir / "signing.key"),
            TRAIN_WAIT_SECONDS="0",  # a train request answers 202 and its job at once
        )

    def group(self) -> list[int]:
        """The live (not zombie) processes of the service's process group."""
        assert self.process is not None
        found = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if (
                    os.getpgid(process.pid) == self.process.pid
                    and process.status() != psutil.STATUS_ZOMBIE
                ):
                    found.append(process.pid)
        return found

    def kill(self) -> dict[str, Any]:
        """SIGKILL to the whole process group, at once (nothing is looked up before: a save
        moves on in milliseconds); then the pids of the group still alive 10 s later (none
        expected), and how long the group took to go."""
        assert self.process is not None
        started = time.perf_counter()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        while (alive := self.group()) and time.perf_counter() - started < 10:
            time.sleep(0.05)
        return {"alive_after": alive, "gone_s": round(time.perf_counter() - started, 2)}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_lines(self, text: str) -> list[str]:
        """This start's output lines (its log, and anything else on stdout and stderr) that
        contain `text`."""
        output = (self.log_directory / "service.out").read_text(errors="replace")
        return [line for line in output.splitlines() if text in line]


def served_version(client: httpx.Client, base: str, model: str, user: str) -> str | None:
    """The version a prediction of `model` comes from (its `X-Model-Version`), None unless 200."""
    if model == "forecast":
        response = client.get(f"{base}/api/v1/forecast/predict?horizon=7")
    elif model == "anomaly":
        points = [{"totalAmount": 20.0 + i, "quantity": 1 + i % 5} for i in range(10)]
        response = client.post(f"{base}/api/v1/anomaly/detect", json={"data_points": points})
    else:
        response = client.get(f"{base}/api/v1/recommend/user/{user}?num_recommendations=5")
    return response.headers.get("X-Model-Version") if response.status_code == 200 else None


def wait_serving(service: Service, user: str, started: float) -> dict[str, Any]:
    """Seconds from `started` to the first 200 of health and to every model answering a
    prediction; the versions they answered with."""
    first_health = None
    versions: dict[str, str | None] = {}
    with httpx.Client(timeout=10) as client:
        while time.perf_counter() - started < 300:
            try:
                if first_health is None:
                    if client.get(f"{service.base}/api/v1/health/").status_code == 200:
                        first_health = time.perf_counter() - started
                else:
                    versions = {m: served_version(client, service.base, m, user) for m in MODELS}
                    if all(versions.values()):
                        break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    return {
        "health_s": round(first_health, 2) if first_health is not None else None,
        "serving_s": round(time.perf_counter() - started, 2) if all(versions.values()) else None,
        "versions": versions,
    }


def _names(state: dict[str, Any]) -> set[str]:
    """Every entry of a `store_state`."""
    return {*state["versions"], *state["staging"], *state["pointer_tmp"]}


def store_state(directory: Path) -> dict[str, Any]:
    """What a model's directory holds: the `current` pointer, versions, staging directories
    (with their files' sizes) and pointer temporaries."""
    state: dict[str, Any] = {"current": None, "versions": [], "staging": {}, "pointer_tmp": []}
    if not directory.is_dir():
        return state
    for entry in os.scandir(directory):
        if entry.name == CURRENT:
            state["current"] = _current(directory)
        elif entry.name.startswith(f".{CURRENT}."):
            state["pointer_tmp"].append(entry.name)
        elif entry.name.startswith(".") and entry.is_dir():
            state["staging"][entry.name] = {f.name: f.stat().st_size for f in os.scandir(entry)}
        elif entry.is_dir():
            state["versions"].append(entry.name)
    return state


def _current(directory: Path) -> str | None:
    try:
        return (directory / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None


def _reached(aim: str, directory: Path, before: set[str]) -> bool:
    """Whether the save in `directory` shows `aim` (see `Kill`) in an entry that was not there
    `before` (an earlier kill's leftovers are not this save); cheap, called every ms."""
    try:
        names = set(os.listdir(directory)) - before - {CURRENT}
    except FileNotFoundError:
        return False
    pointers = {n for n in names if n.startswith(f".{CURRENT}.")}
    staging = {n for n in names if n.startswith(".")} - pointers
    if aim == "staging":
        return bool(staging)
    if aim == "staged":
        return any((directory / n / METADATA).exists() for n in staging)
    if aim == "renamed":
        return bool(names - staging - pointers)
    return bool(pointers)


def landed(after: dict[str, Any], before: dict[str, Any], stage: str | None) -> str:
    """Where the kill fell, read from what it left on disk (and the job's last recorded stage
    when the save had not begun)."""
    if after["current"] != before["current"]:
        return "save: pointer replaced (save complete)"
    if set(after["pointer_tmp"]) - set(before["pointer_tmp"]):
        return "save: pointer being replaced"
    if set(after["versions"]) - set(before["versions"]):
        return "save: version renamed, pointer not replaced"
    staged = [after["staging"][n] for n in set(after["staging"]) - set(before["staging"])]
    if any(METADATA in files for files in staged):
        return "save: metadata written, not renamed"
    if staged:
        return "save: artifact being written"
    return f"training: {stage}"


def _job(client: httpx.Client, base: str, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{base}/api/v1/jobs/{job_id}").json()
    return body


def _kill_when(service: Service, client: httpx.Client, kill: Kill, job_id: str) -> None:
    """Returns once the training reached the aimed moment (and its delay passed)."""
    directory = service.workdir / "models" / kill.model
    before = store_state(directory)
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        if kill.aim in _STAGES:
            if _job(client, service.base, job_id).get("stage") == kill.aim:
                break
            time.sleep(0.02)
        elif _reached(kill.aim, directory, _names(before)):
            break
        elif _current(directory) != before["current"]:
            return  # the save ended between two looks: the moment was missed
        else:
            time.sleep(0.001)
    time.sleep(kill.delay)


Killed = dict[str, tuple[float, str]]  # model: when (monotonic) and which job was last killed


def run_kill(
    service: Service, kill: Kill, user: str, killed: Killed, probe: Probe
) -> dict[str, Any]:
    """One planned kill, the restart and the checks; the service is serving again after it."""
    record: dict[str, Any] = {"model": kill.model, "aim": kill.aim, "delay_s": kill.delay}
    directory = service.workdir / "models" / kill.model
    previous = killed.get(kill.model)
    wait = (previous[0] + LEASE_SECONDS + 2 - time.monotonic()) if previous else 0
    record["waited_for_lease_s"] = round(max(wait, 0), 1)
    time.sleep(max(wait, 0))
    with httpx.Client(timeout=30) as client:
        before = store_state(directory)
        answer = client.post(f"{service.base}/api/v1/{kill.model}/train")
        job_id = answer.json()["id"]
        record |= {"train_status": answer.status_code, "job": job_id}
        record["group_at_start"] = len(service.group())
        if previous:
            record["lease_taken_over"] = job_id != previous[1]
        probe.phase = "training"
        _kill_when(service, client, kill, job_id)
        probe.phase = "killed, restarting"
        record["group"] = service.kill()
    killed[kill.model] = (time.monotonic(), job_id)
    restarted = time.perf_counter()
    after = store_state(directory)
    service.start()
    record |= wait_serving(service, user, restarted)
    probe.phase = "serving"
    with httpx.Client(timeout=30) as client:
        stage = _job(client, service.base, job_id).get("stage")
        record["landed"] = landed(after, before, stage)
        record["store_after_kill"] = after
        served = record["versions"][kill.model]
        record["served"] = (
            "previous"
            if served == before["current"]
            else "new, complete"
            if served == after["current"]
            else f"unexpected {served}"
        )
        record["refused_in_log"] = service.log_lines("refused")
        left = _names(after) - _names(before) - set(after["versions"])
        record["leftovers"] = sorted(left)
        record["leftovers_kept"] = sorted(left & _names(store_state(directory)))
        response = client.post(f"{service.base}/api/v1/{kill.model}/train")
        again = response.json()
        record["train_within_lease"] = {
            "status": response.status_code,
            "joined_killed_job": again.get("id") == job_id,
            "state": again.get("state"),
            "message": again.get("message") or again.get("detail"),
        }
        if again.get("id") not in (None, job_id):  # the lease had expired: let it train
            while _job(client, service.base, again["id"])["state"] == "running":
                time.sleep(1)
            killed.pop(kill.model)
    return record


def final_checks(
    service: Service, records: list[dict[str, Any]], killed: Killed, user: str, probe: Probe
) -> dict[str, Any]:
    """Once every lease and heartbeat is stale: the killed jobs, a training of the last killed
    model, and the sweep of leftovers aged past SWEEP_AFTER_SECONDS."""
    checks: dict[str, Any] = {}
    stale = (
        max((at for at, _ in killed.values()), default=0) + max(STALE_SECONDS, LEASE_SECONDS) + 2
    )
    time.sleep(max(stale - time.monotonic(), 0))
    model = records[-1]["model"]
    with httpx.Client(timeout=30) as client:
        jobs = [_job(client, service.base, r["job"]) for r in records]
        checks["killed_jobs"] = dict(
            Counter(f"{j['state']}: {(j.get('error') or '').split(':')[0]}" for j in jobs)
        )
        probe.phase = "training"
        answer = client.post(f"{service.base}/api/v1/{model}/train").json()
        while (job := _job(client, service.base, answer["id"]))["state"] == "running":
            time.sleep(1)
        served = served_version(client, service.base, model, user)
        checks["training_after_lease_expiry"] = {
            "model": model,
            "new_job": answer["id"] not in {r["job"] for r in records},
            "state": job["state"],
            "version": (job.get("result") or {}).get("version"),
            "served": served,
        }
    probe.phase = "stopped (SIGTERM), restarting"
    service.stop()
    aged = time.time() - SWEEP_AFTER_SECONDS - 60
    leftovers = list((service.workdir / "models").glob("*/.*.tmp"))
    for leftover in leftovers:
        os.utime(leftover, (aged, aged))
    started = time.perf_counter()
    service.start()
    checks["restart_after_aging_leftovers"] = wait_serving(service, user, started)
    probe.phase = "serving"
    checks["leftovers_aged"] = len(leftovers)
    checks["leftovers_after_restart"] = len(list((service.workdir / "models").glob("*/.*.tmp")))
    checks["sweep_log"] = service.log_lines("temporary model files")
    return checks


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    def seconds(key: str, within: str | None = None) -> dict[str, float]:
        values = sorted(
            value for r in records if (value := (r[within] if within else r)[key]) is not None
        )
        return {"min": values[0], "median": values[len(values) // 2], "max": values[-1]}

    return {
        "kills": len(records),
        "landed": dict(Counter(r["landed"] for r in records)),
        "served": dict(Counter(r["served"] for r in records)),
        "refused_artifacts": sum(len(r["refused_in_log"]) for r in records),
        "processes_in_group_at_training_start": sorted({r["group_at_start"] for r in records}),
        "processes_alive_after": sum(len(r["group"]["alive_after"]) for r in records),
        "group_gone_s": seconds("gone_s", "group"),
        "restart_to_health_s": seconds("health_s"),
        "restart_to_serving_s": seconds("serving_s"),
        "lease_taken_over": dict(
            Counter(r["lease_taken_over"] for r in records if "lease_taken_over" in r)
        ),
        "train_within_lease": dict(
            Counter(
                "joined the killed job"
                if r["train_within_lease"]["joined_killed_job"]
                else "new training"
                for r in records
            )
        ),
    }


def run(size: int, kills: int) -> dict[str, Any]:
    workdir = WORKDIR / "kills"
    shutil.rmtree(workdir, ignore_errors=True)
    directory, port = WORKDIR / f"db-{size}", free_port()
    database, url = embedded.start(directory, port, WORKDIR / f"db-{size}-kills.log")
    service = Service(url, workdir)
    try:
        _, user = seed(url, size)
        service.start()
        first = wait_serving(service, user, time.perf_counter())
        killed: Killed = {}
        records = []
        with Probe(f"{service.base}/api/v1/health/", 0.05) as probe:
            probe.phase = "serving"
            for kill in PLAN[:kills]:
                records.append(run_kill(service, kill, user, killed, probe))
                print(
                    json.dumps(
                        {
                            k: records[-1][k]
                            for k in ("model", "aim", "landed", "served", "serving_s")
                        }
                    ),
                    flush=True,
                )
            checks = final_checks(service, records, killed, user, probe)
    finally:
        service.stop()
        embedded.stop(database)
    return {
        "transactions": size,
        "first_start_s": first,
        "summary": summary(records),
        "final": checks,
        "health_ms": {phase: percentiles(ms) for phase, ms in probe.latencies.items()},
        "health_statuses": {p: dict(c) for p, c in probe.statuses.items()},
        "kills": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--kills", type=int, default=len(PLAN), help="the first N of the plan")
    args = parser.parse_args()
    result = run(args.size, args.kills)
    print(json.dumps({k: result[k] for k in ("summary", "final", "health_ms")}, indent=2))
    print("saved to", save_results("kills", result))


if __name__ == "__main__":
    main()
