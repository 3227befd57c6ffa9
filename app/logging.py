"""One logging setup: loguru to stdout and a daily file; stdlib and uvicorn logs routed into it."""

import inspect
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

# C0 and C1 control characters, DEL, and Unicode's line and paragraph separators: in a logged
# value (a request path, a header, a client's field name) they could forge log lines or move a
# terminal's cursor (ANSI escapes). Tracebacks are not messages and keep their lines.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: re.Match[str]) -> str:
    found = char.group()
    return _NAMED.get(found) or (
        f"\\x{ord(found):02x}" if ord(found) < 0x100 else f"\\u{ord(found):04x}"
    )


def escape_controls(text: str) -> str:
    r"""A newline as `\n`, ESC as `\x1b`: printable, on one line, and still readable."""
    return _CONTROL.sub(_escaped, text)


def _escape_message(record: "Record") -> None:
    record["message"] = escape_controls(record["message"])


_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS!UTC}Z | {level: <8} | {name}:{function}:{line} - {message}"


class InterceptHandler(logging.Handler):
    """Hands every standard-library record to loguru, keeping its level and origin."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(log_dir: Path, level: str = "INFO") -> None:
    """Idempotent: safe to call from the server, the launcher and tests alike."""
    logger.remove()
    logger.configure(patcher=_escape_message)
    logger.add(sys.stdout, level=level, format=_FORMAT, backtrace=False, diagnose=False)
    log_dir.mkdir(parents=True, exist_ok=True)
    logger.add(
        log_dir / "ai_service_{time:YYYY-MM-DD}.log",
        level=level,
        format=_FORMAT,
        rotation="00:00",
        retention="7 days",
        compression="gz",
        enqueue=True,
        backtrace=False,
        diagnose=False,
    )
    # Standard-library records below the level are not even made: at level 0, uvicorn wrapped
    # the app in its trace logger, which formatted every ASGI message of every request (the
    # scope with the app's state) for loguru to drop, 40 % of a request's time.
    logging.basicConfig(handlers=[InterceptHandler()], level=logger.level(level).no, force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "pymongo"):
        std_logger = logging.getLogger(name)
        std_logger.handlers = [InterceptHandler()]
        std_logger.propagate = False
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
