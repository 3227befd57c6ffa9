"""What the fit worker process imports: its entry module, then the three capabilities' fit
functions, each measured in a fresh interpreter (module count and peak RSS), with the packages
only the server needs that were loaded all the same.

    python -m bench.worker_imports [ENTRY_MODULE]   (default: app.core.fit_entry)"""

import argparse
import subprocess
import sys

from bench.serving import ROOT

FITS = (
    "app.forecast.model:fit_model",
    "app.anomaly.model:fit_model",
    "app.recommend.model:fit_model",
)
SERVER_ONLY = ("pymongo", "bson", "gridfs", "fastapi", "starlette", "prometheus_client", "loguru")
# Run in a fresh interpreter: argv is the server-only packages (comma-separated), the entry
# module, then the fit functions.
_PROBE = """
import importlib, resource, sys
server_only, entry, *fits = sys.argv[1:]
importlib.import_module(entry)
before = len(sys.modules)
for target in fits:
    module, _, function = target.partition(":")
    getattr(importlib.import_module(module), function)
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(server_only.split(",")))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{entry}: {before} modules; with the fit modules {len(sys.modules)}, "
      f"peak RSS {rss:.0f} MB; server-only packages loaded: {', '.join(loaded) or 'none'}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("entry", nargs="?", default="app.core.fit_entry")
    entry = parser.parse_args().entry
    command = [sys.executable, "-c", _PROBE, ",".join(SERVER_ONLY), entry, *FITS]
    subprocess.run(command, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
