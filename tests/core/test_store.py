import errno
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.store import ArtifactInvalid, ArtifactStore, VersionUnknown, pointer
from app.core.store.signing import signature, signing_key

KEY = b"test-signing-key"
META = {"model_type": "LinearRegression", "trained_at": "2026-11-25T00:00:00+00:00"}


def saved_version(store: ArtifactStore, model: object, version: str) -> dict[str, object]:
    return store.save("forecast", model, {**META, "version": version})


V1, V2, V3 = "20261123T000000Z-aaaaaa", "20261124T000000Z-bbbbbb", "20261125T000000Z-cccccc"


def test_round_trip_keeps_model_and_signed_metadata(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "models", KEY)
    saved = saved_version(store, {"weights": [1, 2, 3]}, V1)

    loaded = store.load_current("forecast", "LinearRegression")

    assert loaded is not None
    model, metadata = loaded
    assert model == {"weights": [1, 2, 3]}
    assert metadata == saved
    assert {"sha256", "libraries", "format_version", "service_version", "signature"} <= set(
        metadata
    )
    assert sorted(p.name for p in (tmp_path / "models" / "forecast").iterdir()) == [V1, "current"]


def test_nothing_saved_is_none(tmp_path: Path) -> None:
    assert ArtifactStore(tmp_path, KEY).load_current("forecast", "LinearRegression") is None


def test_each_save_is_a_version_and_the_oldest_are_pruned(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY, keep_versions=2)
    for number, version in enumerate((V1, V2, V3)):
        saved_version(store, [number], version)

    assert [v["version"] for v in store.versions("forecast")] == [V3, V2]
    assert all(v["signed"] for v in store.versions("forecast"))
    assert store.current("forecast") == V3


def test_an_older_version_can_be_made_current_again(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, ["old"], V1)
    saved_version(store, ["new"], V2)

    store.set_current("forecast", V1)

    assert store.load_current("forecast", "LinearRegression")[0] == ["old"]  # type: ignore[index]


@pytest.mark.parametrize("version", ["../anomaly", "20261125T000000Z-ffffff", "", "current"])
def test_an_id_that_is_no_saved_version_is_unknown(tmp_path: Path, version: str) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)

    with pytest.raises(VersionUnknown):
        store.load("forecast", version, "LinearRegression")
    with pytest.raises(VersionUnknown):
        store.set_current("forecast", version)


def test_truncated_artifact_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, list(range(1000)), V1)
    artifact = tmp_path / "forecast" / V1 / "model.joblib"
    artifact.write_bytes(artifact.read_bytes()[:100])

    with pytest.raises(ArtifactInvalid, match="does not match its checksum"):
        store.load_current("forecast", "LinearRegression")


class _RunsCode:
    """A pickle that runs a command when loaded, as an attacker would write one."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_a_crafted_pickle_with_a_matching_checksum_is_never_loaded(tmp_path: Path) -> None:
    """Whoever can write the model directory rewrites the artifact and its checksum; without the
    key the signature no longer holds, so nothing is unpickled."""
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    directory = tmp_path / "forecast" / V1
    (directory / "model.joblib").write_bytes(pickle.dumps(_RunsCode()))
    metadata = json.loads((directory / "metadata.json").read_text())
    metadata["sha256"] = hashlib.sha256(pickle.dumps(_RunsCode())).hexdigest()
    metadata["signature"] = signature(metadata, b"the attacker's guess")
    (directory / "metadata.json").write_text(json.dumps(metadata))

    with pytest.raises(ArtifactInvalid, match="signature is missing or does not match"):
        store.load_current("forecast", "LinearRegression")
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


def test_a_model_saved_with_another_key_is_refused(tmp_path: Path) -> None:
    saved_version(ArtifactStore(tmp_path, b"other key"), [1], V1)

    with pytest.raises(ArtifactInvalid, match="signature"):
        ArtifactStore(tmp_path, KEY).load_current("forecast", "LinearRegression")


def test_other_model_type_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)

    with pytest.raises(ArtifactInvalid, match="not the configured RandomForestRegressor"):
        store.load_current("forecast", "RandomForestRegressor")


def test_garbled_metadata_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    (tmp_path / "forecast" / V1 / "metadata.json").write_text("{half")

    with pytest.raises(ArtifactInvalid, match="unreadable"):
        store.load_current("forecast", "LinearRegression")
    assert str(tmp_path) not in str(store.versions("forecast"))


def test_sweep_removes_old_leftovers_of_an_interrupted_save_only(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    old = tmp_path / "forecast" / ".crashed.tmp"
    old.mkdir()
    (old / "model.joblib").write_bytes(b"half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    young = tmp_path / "forecast" / ".saving.tmp"
    young.mkdir()

    assert store.sweep() == 1
    assert not old.exists()
    assert young.exists()
    assert store.load_current("forecast", "LinearRegression") is not None


def test_a_failed_save_leaves_the_live_version_and_no_partial_one(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)

    with pytest.raises(pickle.PicklingError):
        saved_version(store, lambda: None, V2)

    assert store.current("forecast") == V1
    assert [p.name for p in (tmp_path / "forecast").iterdir() if p.name != "current"] == [V1]


@pytest.mark.parametrize("failing", ["stage", "publish", "pointer write", "pointer rename"])
def test_a_full_disk_anywhere_in_a_save_leaves_the_pointer_where_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    full = OSError(errno.ENOSPC, "No space left on device")

    def raise_full(*_: object, **__: object) -> None:
        raise full

    target = {
        "stage": (ArtifactStore, "stage"),
        "publish": (os, "rename"),
        "pointer write": (pointer, "write_synced"),
        "pointer rename": (os, "replace"),
    }[failing]
    monkeypatch.setattr(*target, raise_full)
    with pytest.raises(OSError, match="No space left") as raised:
        saved_version(store, [2], V2)
    monkeypatch.undo()

    assert raised.value is full
    assert store.current("forecast") == V1
    assert store.load_current("forecast", "LinearRegression") is not None
    assert not [p.name for p in (tmp_path / "forecast").iterdir() if p.name.startswith(".")]


def test_a_prune_that_fails_after_the_pointer_moved_does_not_fail_the_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)

    def raise_denied(*_: object, **__: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(ArtifactStore, "prune", raise_denied)
    saved = saved_version(store, [2], V2)

    assert saved["version"] == V2
    assert store.current("forecast") == V2


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "signing.key"

    first = signing_key(None, key_file)

    assert signing_key(None, key_file) == first
    assert len(first) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert signing_key("configured", key_file) == b"configured"


@pytest.mark.parametrize("content", ["[]", "null", '"text"'])
def test_metadata_that_is_not_an_object_is_refused_and_listed_by_its_folder(
    tmp_path: Path, content: str
) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    (tmp_path / "forecast" / V1 / "metadata.json").write_text(content)

    with pytest.raises(ArtifactInvalid, match="signature"):
        store.load_current("forecast", "LinearRegression")
    assert store.versions("forecast") == [{"version": V1, "signed": False}]


def test_a_key_file_with_too_short_a_key_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "signing.key"
    key_file.write_text("short")
    key_file.chmod(0o600)

    with pytest.raises(ValueError, match="fewer than 32"):
        signing_key(None, key_file)


# Saves V1, then V2 in a process that stops at `moment` (writes the marker, sleeps) so that the
# test can SIGKILL it there: no `except`, no `finally` runs, as in a real kill.
_SAVE_THEN_STALL = f"""
import os, sys, time
from pathlib import Path
from app.core.store import artifacts as store_module
from app.core.store import ArtifactStore

directory, moment, marker = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
meta = {META!r}

def stall(*_):
    marker.touch()
    time.sleep(60)

class Stalls:
    def __reduce__(self):
        stall()

def half_then_stall(path, content):
    with path.open("wb") as f:
        f.write(content[: len(content) // 2])
        f.flush()
        os.fsync(f.fileno())
    stall()

store = ArtifactStore(directory, {KEY!r})
store.save("forecast", ["old"], {{**meta, "version": {V1!r}}})
if moment == "metadata":
    store_module.write_synced = half_then_stall
elif moment == "renamed":
    store.set_current = stall
elif moment == "pointer":
    os.replace = stall
model = [bytes(2**21), Stalls()] if moment == "pickling" else [bytes(2**21), "new"]
store.save("forecast", model, {{**meta, "version": {V2!r}}})
"""


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["pickling", "metadata", "renamed", "pointer"])
def test_a_save_killed_midway_leaves_the_previous_version_live_and_loads_no_partial_one(
    tmp_path: Path, moment: str
) -> None:
    """SIGKILL while the model is pickled into its file, while its metadata is written, after
    the version is renamed into place, and while the pointer is replaced: the previous version
    loads; a leftover is never loaded, and swept once old enough."""
    marker = tmp_path / "stalled"
    saving = subprocess.Popen(
        [sys.executable, "-c", _SAVE_THEN_STALL, str(tmp_path), moment, str(marker)],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and saving.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    saving.send_signal(signal.SIGKILL)
    saving.wait(10)
    assert marker.exists()

    store = ArtifactStore(tmp_path, KEY)
    assert store.current("forecast") == V1
    assert store.load_current("forecast", "LinearRegression")[0] == ["old"]  # type: ignore[index]
    renamed = moment in {"renamed", "pointer"}
    complete = [v["version"] for v in store.versions("forecast") if v["signed"]]
    assert complete == ([V2, V1] if renamed else [V1])
    if renamed:  # renamed whole: a rollback naming it would serve it
        model, _ = store.load("forecast", V2, "LinearRegression")
        assert isinstance(model, list)
        assert model[1] == "new"
    leftovers = list((tmp_path / "forecast").glob(".*.tmp"))
    assert len(leftovers) == (0 if moment == "renamed" else 1)
    if moment == "pickling":  # the half-written artifact, with no metadata to vouch for it
        assert sorted(p.name for p in leftovers[0].iterdir()) == ["model.joblib"]
        assert (leftovers[0] / "model.joblib").stat().st_size >= 2**20
    if moment == "metadata":  # half the metadata: it vouches for nothing
        assert sorted(p.name for p in leftovers[0].iterdir()) == ["metadata.json", "model.joblib"]
    assert store.sweep() == 0
    assert store.sweep(older_than_seconds=0) == len(leftovers)
    assert store.load_current("forecast", "LinearRegression")[0] == ["old"]  # type: ignore[index]


FUTURE = "20991231T000000Z-ffffff"


def test_a_version_dated_in_the_future_is_refused_at_load_and_check(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    saved_version(store, ["planted"], FUTURE)  # signed, so only its date gives it away

    with pytest.raises(ArtifactInvalid, match="future"):
        store.load_current("forecast", "LinearRegression")
    assert "future" in (store.verify("forecast", FUTURE) or "")
    assert store.verify("forecast", V1) is None


def test_a_version_dated_in_the_future_holds_no_keep_slot(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY, keep_versions=2)
    saved_version(store, ["planted"], FUTURE)
    for number, version in enumerate((V1, V2, V3)):
        saved_version(store, [number], version)

    assert [v["version"] for v in store.versions("forecast")] == [V3, V2]


SECRET = "root:x:0:0:a secret line of another file"


@pytest.mark.parametrize("part", ["current", "version", "model.joblib", "metadata.json"])
def test_a_symbolic_link_in_the_store_is_refused_and_its_target_never_read(
    tmp_path: Path, part: str
) -> None:
    store = ArtifactStore(tmp_path / "models", KEY)
    saved_version(store, [1], V1)
    elsewhere = ArtifactStore(tmp_path / "elsewhere", KEY)
    saved_version(elsewhere, [2], V1)  # a valid version, out of the store
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    model = tmp_path / "models" / "forecast"
    if part == "current":
        (model / "current").unlink()
        (model / "current").symlink_to(secret)
    elif part == "version":
        shutil.rmtree(model / V1)
        (model / V1).symlink_to(tmp_path / "elsewhere" / "forecast" / V1)
    else:
        (model / V1 / part).unlink()
        (model / V1 / part).symlink_to(tmp_path / "elsewhere" / "forecast" / V1 / part)

    with pytest.raises(ArtifactInvalid, match="symbolic link") as refused:
        store.load_current("forecast", "LinearRegression")

    assert SECRET not in str(refused.value)
    if part == "current":
        assert store.current("forecast") is None
    else:
        assert "symbolic link" in (store.verify("forecast", V1) or "")


@pytest.mark.parametrize("mode", [0o440, 0o640])
def test_a_key_file_its_group_may_read_is_used(tmp_path: Path, mode: int) -> None:
    """As a secret mounted for a group (Kubernetes' fsGroup) is."""
    key_file = tmp_path / "signing.key"
    made = signing_key(None, key_file)
    key_file.chmod(mode)

    assert signing_key(None, key_file) == made


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o620, 0o602])
def test_a_key_file_open_to_other_users_is_refused_with_how_to_fix_it(
    tmp_path: Path, mode: int
) -> None:
    key_file = tmp_path / "signing.key"
    signing_key(None, key_file)
    key_file.chmod(mode)

    with pytest.raises(ValueError, match=r"chmod 600 .*signing\.key"):
        signing_key(None, key_file)
    key_file.chmod(0o600)
    assert len(signing_key(None, key_file)) == 64


def test_a_pointer_moved_without_a_recorded_rollback_is_unexpected(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, KEY)
    saved_version(store, [1], V1)
    saved_version(store, [2], V2)
    trained = store.unexpected_pointer("forecast")

    store.set_current("forecast", V1)  # a writer of the store, not the service
    moved = store.unexpected_pointer("forecast")
    store.record_rollback("forecast", V1)  # the service's rollback records itself first
    rolled_back = store.unexpected_pointer("forecast")
    saved_version(store, [3], V3)
    retrained = store.unexpected_pointer("forecast")
    store.set_current("forecast", V1)  # the old record no longer covers it
    replayed = store.unexpected_pointer("forecast")
    store.set_current("forecast", V3)
    record = json.loads((tmp_path / "forecast" / "rollback.json").read_text())
    (tmp_path / "forecast" / "rollback.json").write_text(
        json.dumps({**record, "version": V2, "newest": V3})  # forged: the signature fails
    )
    store.set_current("forecast", V2)

    assert (trained, moved, rolled_back, retrained, replayed) == (None, V1, None, None, V1)
    assert store.unexpected_pointer("forecast") == V2
