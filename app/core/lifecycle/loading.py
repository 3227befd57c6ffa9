"""Serving what the store holds: a model's current saved version loaded into its slot, or, when
that one is refused, the newest that passes every check; and who moved the store's pointer."""

from loguru import logger
from pymongo.errors import PyMongoError

from app.core.lifecycle.slot import ModelSlot
from app.core.names import ModelName
from app.core.store import ArtifactInvalid, ModelStore, VersionUnknown
from app.errors import ServiceError


async def load_saved(store: ModelStore, slot: ModelSlot) -> None:
    """Reads a saved model; meanwhile its state is `loading`, so that a request for it is
    told to retry shortly rather than to train it."""
    name, model_type = slot.spec.name, slot.spec.model_type
    stamp = store.pointer_stamp(name)
    slot.loading = True
    try:
        found = await store.load_current(name, model_type)
        if found is not None:
            await slot.spec.prepare_served(*found)
            slot.install(*found)
    except (ArtifactInvalid, VersionUnknown) as exc:
        if slot.model is None and await _fall_back(store, slot, exc):
            slot.seen = stamp  # that pointer was judged: not loaded again at each sync
            return
        if slot.model is not None:
            served = slot.version
            logger.warning(
                "Saved {} model refused, version {} keeps serving: {}", name, served, exc
            )
        else:
            logger.warning("Saved {} model refused, it will be retrained: {}", name, exc)
        return
    finally:
        slot.loading = False
    if found is None:
        logger.info("No saved {} model; it will be trained", name)
        return
    logger.info("Loaded the {} model version {}", name, found[1]["version"])


async def _fall_back(store: ModelStore, slot: ModelSlot, refused: Exception) -> bool:
    """Serves the newest saved version that passes every check when the live one is refused
    (tampered, truncated, a link): a training is not needed to serve. The store's pointer is
    left as it is (a training or a rollback moves it). False when none passes."""
    name = slot.spec.name
    try:
        saved = await store.versions(name)
    except (ServiceError, PyMongoError, OSError) as exc:
        logger.warning("No saved {} version to fall back on listed: {}", name, exc)
        return False
    live = store.current(name)
    for candidate in saved:
        version = candidate.get("version")
        if not isinstance(version, str) or version == live or not candidate.get("signed"):
            continue
        try:
            found = await store.load(name, version, slot.spec.model_type)
            await slot.spec.prepare_served(*found)
        except (ArtifactInvalid, VersionUnknown, ServiceError) as exc:
            logger.info("Saved {} version {} not a fallback either: {}", name, version, exc)
            continue
        slot.install(*found)
        logger.warning(
            "Saved {} model refused ({}); serving the newest valid saved version {} instead "
            "(the store's current pointer is left as it is)",
            name,
            refused,
            version,
        )
        return True
    return False


class PointerJudge:
    """Whether the store's pointer names a version the service put there (the newest
    training's, or a rollback it recorded); the other case is a WARNING, once per version,
    and is shown in `GET /api/v1/models` until a training or a rollback moves the pointer."""

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._unexpected: dict[ModelName, str | None] = {}

    def judge(self, name: ModelName) -> str | None:
        unexpected = self._store.unexpected_pointer(name)
        if unexpected is not None and unexpected != self._unexpected.get(name):
            logger.warning(
                "The {} model's current pointer was moved in the store to version {}, not the "
                "newest training's, and no rollback of this service is recorded: it is served, "
                "but whoever can write MODEL_SAVE_PATH moved it (roll back or train to set it)",
                name,
                unexpected,
            )
        self._unexpected[name] = unexpected
        return unexpected

    def unexpected(self, name: ModelName) -> str | None:
        """The version the pointer names when neither a training nor a rollback of this
        service put it there, as last judged; None otherwise."""
        return self._unexpected.get(name)
