"""Why a saved version is not loaded: the store's two exceptions, apart so that every module of
the store (ids, files, pointer, stores) raises the same ones without importing each other."""


class ArtifactInvalid(Exception):
    """The artifact exists but must not be loaded; the message says why."""


class VersionUnknown(Exception):
    """No saved version of the model has that id."""
