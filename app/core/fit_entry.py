"""What the fit worker process runs, apart from every package of the core: the worker imports
this module and the model's own code, not the registry, the database driver or the store."""

import importlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any


def resolve(target: str) -> Callable[[Any], Any]:
    """The function named `module:function`, imported."""
    module_name, _, function_name = target.partition(":")
    fit: Callable[[Any], Any] = getattr(importlib.import_module(module_name), function_name)
    return fit


def exit_with_parent(parent: int, every_seconds: float = 1.0) -> None:
    """In the worker, at its start: ends it once the server process that started it is gone.
    A server killed outright (SIGKILL, or a worker process ended before its shutdown ran) cannot
    kill its fit worker, which otherwise lived on, orphaned, holding its memory."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def run_fit(target: str, data: object) -> tuple[object, float]:
    """In the worker: imports the fit function and fits the data; returns the fitted model and
    the seconds the fit took."""
    fit = resolve(target)
    started = time.perf_counter()
    model = fit(data)
    return model, time.perf_counter() - started
