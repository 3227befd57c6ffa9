"""The GridFS model store as replicas on two hosts see it: one bucket in MongoDB, a disk of
their own each."""

import errno
import hashlib
import json
import pickle
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from app.core.store import ArtifactInvalid, ArtifactStore, VersionUnknown
from app.core.store.deployment_pointer import DeploymentPointer
from app.core.store.gridfs import GridFSModelStore
from app.errors import DatabaseTimeout, DatabaseUnavailable
from tests.factories import free_port

KEY = b"test-signing-key-shared-by-every-replica"
META = {"model_type": "LinearRegression", "trained_at": "2026-11-25T00:00:00+00:00"}
V1, V2, V3 = "20261123T000000Z-aaaaaa", "20261124T000000Z-bbbbbb", "20261125T000000Z-cccccc"
TYPE = "LinearRegression"


@pytest.fixture
async def bucket_db(mongo_server: SecantusDBServer) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    yield client[f"gridfs_{uuid.uuid4().hex[:12]}"]
    await client.close()


def host(db: AsyncDatabase[Any], directory: Path, keep: int = 5) -> GridFSModelStore:
    """One replica's store: the shared bucket, and its own disk."""
    return GridFSModelStore(ArtifactStore(directory, KEY, keep), db, "models", 2.0, 30.0, keep)


async def save(store: GridFSModelStore, model: object, version: str) -> dict[str, Any]:
    return await store.save("forecast", model, {**META, "version": version})


async def test_a_version_saved_by_one_host_is_served_by_another_after_a_refresh(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    first, second = host(bucket_db, tmp_path / "a"), host(bucket_db, tmp_path / "b")
    saved = await save(first, {"weights": [1, 2]}, V1)

    before = second.current("forecast")
    stamp_before = second.pointer_stamp("forecast")
    await second.refresh()
    loaded = await second.load_current("forecast", TYPE)

    assert before is None
    assert stamp_before is None
    assert second.current("forecast") == V1
    assert second.pointer_stamp("forecast") is not None
    assert loaded == ({"weights": [1, 2]}, saved)
    assert [(v["version"], v["signed"]) for v in await second.versions("forecast")] == [(V1, True)]


async def test_a_rollback_on_one_host_is_followed_by_the_other(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    first, second = host(bucket_db, tmp_path / "a"), host(bucket_db, tmp_path / "b")
    await save(first, ["old"], V1)
    await save(first, ["new"], V2)
    await second.refresh()

    await second.set_current("forecast", V1)
    await first.refresh()
    served = await first.load_current("forecast", TYPE)

    assert second.current("forecast") == first.current("forecast") == V1
    assert served is not None
    assert served[0] == ["old"]


async def test_gridfs_keeps_the_newest_versions(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    store = host(bucket_db, tmp_path / "a", keep=2)
    for number, version in enumerate((V1, V2, V3)):
        await save(store, [number], version)

    listed = [v["version"] for v in await store.versions("forecast")]

    assert listed == [V3, V2]
    assert await bucket_db["models.chunks"].count_documents({}) == 2
    assert sorted(p.name for p in (tmp_path / "a" / "forecast").iterdir()) == [V2, V3, "current"]


async def test_a_version_gridfs_does_not_hold_is_unknown(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    store = host(bucket_db, tmp_path / "a")
    await save(store, [1], V1)

    with pytest.raises(VersionUnknown):
        await host(bucket_db, tmp_path / "b").load("forecast", V2, TYPE)


async def test_a_crafted_artifact_in_gridfs_is_copied_but_never_loaded(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    """Whoever can write the bucket cannot run code: the checksum can be made to match, the
    signature cannot."""
    await save(host(bucket_db, tmp_path / "a"), [1], V1)
    crafted = pickle.dumps(["crafted"])
    await bucket_db["models.chunks"].update_one({}, {"$set": {"data": crafted}})
    files = bucket_db["models.files"]
    signed = json.loads((await files.find_one({}) or {})["metadata"]["signed"])
    signed["sha256"] = hashlib.sha256(crafted).hexdigest()
    await files.update_one(
        {}, {"$set": {"length": len(crafted), "metadata.signed": json.dumps(signed)}}
    )
    second = host(bucket_db, tmp_path / "b")

    await second.refresh()

    assert second.current("forecast") is None  # refused: not followed
    with pytest.raises(ArtifactInvalid, match="signature"):
        await second.load("forecast", V1, TYPE)
    assert [v["signed"] for v in await second.versions("forecast")] == [False]


async def test_a_version_this_host_would_refuse_is_not_followed_and_its_own_stays(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    """Another key (or other library versions, in a rolling upgrade): the host keeps serving
    its own version, which is not pruned to make room for one it cannot load."""
    other_key = GridFSModelStore(
        ArtifactStore(tmp_path / "a", b"another-key-of-another-replica-000"),
        bucket_db,
        "models",
        2.0,
        30.0,
        1,
    )
    mine = host(bucket_db, tmp_path / "b", keep=1)
    await save(mine, ["mine"], V1)
    await save(other_key, ["theirs"], V2)

    await mine.refresh()
    await mine.refresh()
    served = await mine.load_current("forecast", TYPE)

    assert mine.current("forecast") == V1
    assert served is not None
    assert served[0] == ["mine"]


@pytest.mark.parametrize(
    "pointer",
    [
        {"_id": "forecast"},
        {"_id": "forecast", "version": "../../x"},
        {"_id": "../../escaped", "version": V2},
    ],
)
async def test_a_malformed_deployment_pointer_is_ignored(
    bucket_db: AsyncDatabase[Any], tmp_path: Path, pointer: dict[str, Any]
) -> None:
    store = host(bucket_db, tmp_path / "host" / "models")
    await save(store, [1], V1)
    await bucket_db["models.current"].delete_many({})
    await bucket_db["models.current"].insert_one(pointer)

    await store.refresh()

    assert store.current("forecast") == V1
    assert sorted(p.name for p in (tmp_path / "host").iterdir()) == ["models"]


async def test_chunks_of_an_interrupted_upload_are_swept_once_old_and_never_listed(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    store = host(bucket_db, tmp_path / "a")
    await save(store, [1], V1)
    old = ObjectId.from_datetime(datetime.now(UTC) - timedelta(hours=1))
    young = ObjectId()
    for file_id in (old, young):
        await bucket_db["models.chunks"].insert_one({"files_id": file_id, "n": 0, "data": b"x"})

    swept = await store.sweep()

    assert swept == 1
    remaining = await bucket_db["models.chunks"].distinct("files_id")
    assert old not in remaining
    assert young in remaining
    assert [v["version"] for v in await store.versions("forecast")] == [V1]


@pytest.mark.slow
async def test_with_mongodb_unreachable_a_host_serves_its_copy_and_saves_fail_clearly(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    await save(host(bucket_db, tmp_path / "a"), ["served"], V1)
    offline: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=200
    )
    cut_off = GridFSModelStore(
        ArtifactStore(tmp_path / "a", KEY), offline["x"], "models", 0.5, 0.5, 5
    )

    with pytest.raises(DatabaseUnavailable):
        await cut_off.refresh()
    loaded = await cut_off.load_current("forecast", TYPE)
    with pytest.raises(DatabaseUnavailable):
        await cut_off.save("forecast", ["new"], {**META, "version": V2})
    await offline.close()

    assert loaded is not None
    assert loaded[0] == ["served"]
    assert cut_off.current("forecast") == V1


async def test_metadata_comes_back_as_signed_whatever_bson_would_make_of_it(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    """Dotted and dollar keys (the recommender's metrics have dotted ones), integers beyond
    32 bits, a float that is whole, a NaN: the signature holds on the other host."""
    awkward = {"popular.precision_at_10": 0.25, "$rows": 2**40, "users": 3.0, "gap": float("nan")}
    saved = await host(bucket_db, tmp_path / "a").save(
        "forecast", [1], {**META, "version": V1, "metrics": awkward}
    )
    second = host(bucket_db, tmp_path / "b")

    await second.refresh()
    loaded = await second.load_current("forecast", TYPE)

    assert loaded is not None
    assert loaded[1]["signature"] == saved["signature"]
    assert [v["signed"] for v in await second.versions("forecast")] == [True]


@pytest.mark.parametrize("first_save", [True, False])
async def test_a_pointer_move_that_fails_after_it_landed_is_put_back(
    bucket_db: AsyncDatabase[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_save: bool
) -> None:
    """A move of the pointer whose answer timed out may have landed: the save fails, and no
    host may then follow the pointer to the version that failed."""
    saving = host(bucket_db, tmp_path / "a")
    if not first_save:
        await save(saving, ["served"], V1)
    moved = DeploymentPointer.move

    async def lands_then_times_out(pointer: DeploymentPointer, name: str, version: str) -> None:
        await moved(pointer, name, version)
        raise DatabaseTimeout("the pointer's move was not acknowledged in time")

    monkeypatch.setattr(DeploymentPointer, "move", lands_then_times_out)
    with pytest.raises(DatabaseTimeout):
        await save(saving, ["new"], V2)
    monkeypatch.undo()
    other = host(bucket_db, tmp_path / "b")
    await other.refresh()

    expected = None if first_save else V1
    assert saving.current("forecast") == expected
    assert other.current("forecast") == expected


async def test_a_full_disk_or_a_failed_upload_leaves_the_pointer_where_it_was(
    bucket_db: AsyncDatabase[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saving = host(bucket_db, tmp_path / "a")
    await save(saving, ["served"], V1)

    async def upload_full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(GridFSModelStore, "_upload", upload_full)
    with pytest.raises(OSError, match="No space left"):
        await save(saving, ["new"], V2)
    monkeypatch.undo()
    other = host(bucket_db, tmp_path / "b")
    await other.refresh()

    assert saving.current("forecast") == V1
    assert other.current("forecast") == V1
    assert not [p for p in (tmp_path / "a" / "forecast").iterdir() if p.name.startswith(".")]


FUTURE = "20991231T000000Z-ffffff"


async def test_a_version_dated_in_the_future_is_not_followed_and_holds_no_keep_slot(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    first, second = host(bucket_db, tmp_path / "a", keep=2), host(bucket_db, tmp_path / "b")
    await save(second, [0], V1)
    await save(first, ["planted"], FUTURE)

    await second.refresh()
    followed = second.current("forecast")
    await save(first, [2], V2)
    await save(first, [3], V3)
    listed = [v["version"] for v in await first.versions("forecast")]

    assert followed == V1
    assert listed == [V3, V2]


async def test_a_refused_download_is_deleted_from_this_hosts_disk(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    other_key = GridFSModelStore(
        ArtifactStore(tmp_path / "a", b"another-key-of-another-replica-000"),
        bucket_db,
        "models",
        2.0,
        30.0,
        5,
    )
    mine = host(bucket_db, tmp_path / "b")
    await save(mine, ["mine"], V1)
    await save(other_key, ["theirs"], V2)

    await mine.refresh()
    after_refresh = sorted(p.name for p in (tmp_path / "b" / "forecast").iterdir())
    with pytest.raises(ArtifactInvalid, match="signature"):
        await mine.load("forecast", V2, TYPE)  # a rollback to it downloads it again
    after_load = sorted(p.name for p in (tmp_path / "b" / "forecast").iterdir())

    assert after_refresh == [V1, "current"]
    assert after_load == [V1, "current"]
    assert mine.current("forecast") == V1


async def test_a_rollback_is_expected_on_every_host_a_pointer_moved_by_hand_is_not(
    bucket_db: AsyncDatabase[Any], tmp_path: Path
) -> None:
    first, second = host(bucket_db, tmp_path / "a"), host(bucket_db, tmp_path / "b")
    await save(first, [1], V1)
    await second.refresh()
    await save(first, [2], V2)
    await second.refresh()

    await first.set_current("forecast", V1)  # the service's rollback
    await second.refresh()
    rolled_back = (first.unexpected_pointer("forecast"), second.unexpected_pointer("forecast"))
    await first.set_current("forecast", V2)
    await second.refresh()
    pointers = bucket_db["models.current"]
    await pointers.update_one({"_id": "forecast"}, {"$set": {"version": V1, "rollback": None}})
    await second.refresh()

    assert rolled_back == (None, None)
    assert second.current("forecast") == V1
    assert second.unexpected_pointer("forecast") == V1
