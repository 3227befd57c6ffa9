"""A model's saved versions as the registry serves them: listed with the live one marked, and a
rollback to one of them (checked like any saved model, made ready, then made current)."""

from typing import Any

from loguru import logger

from app.core.lifecycle.slot import ModelSlot
from app.core.store import ArtifactInvalid, ModelStore, VersionUnknown
from app.errors import Conflict, NotFound, brief


async def listed_versions(store: ModelStore, slot: ModelSlot) -> list[dict[str, Any]]:
    """Every saved version of the slot's model, newest first, and whether it is the live one."""
    live = slot.version
    return [{**v, "live": v.get("version") == live} for v in await store.versions(slot.spec.name)]


async def roll_back(store: ModelStore, slot: ModelSlot, version: str | None) -> dict[str, Any]:
    """Serves a saved version again (by default the one before the live one) and makes it the
    store's current version; answers its metadata. The caller holds the training lease."""
    name = slot.spec.name
    version = version or await _previous_version(store, slot)
    try:
        model, metadata = await store.load(name, version, slot.spec.model_type)
    except VersionUnknown:
        known = [v["version"] for v in await store.versions(name)]
        raise NotFound(
            f"The {name} model has no saved version {brief(version)}; saved versions: "
            f"{', '.join(known) or 'none'} (GET /api/v1/models lists them)."
        ) from None
    except ArtifactInvalid as exc:
        raise Conflict(f"The {name} model's version cannot be served: {exc}.") from None
    await slot.spec.prepare_served(model, metadata)
    try:
        await store.set_current(name, version)
    except VersionUnknown:
        raise NotFound(f"The {name} model's version {version} was pruned meanwhile.") from None
    slot.install(model, metadata)
    logger.warning("Rolled the {} model back to version {}", name, version)
    return metadata


async def _previous_version(store: ModelStore, slot: ModelSlot) -> str:
    name = slot.spec.name
    live = slot.version
    older = [v["version"] for v in await store.versions(name) if live and v["version"] < live]
    if not older:
        raise NotFound(f"The {name} model has no saved version older than the live one.")
    return str(older[0])
