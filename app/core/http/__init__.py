"""HTTP plumbing around every route: access by key, allowed hosts, request limits, cross-site
guard, error answers, the request log, the model version header, syncing models before a
request, offline docs, and typed access to what the lifespan built."""

from app.core.http.access import (
    OPERATOR_RESPONSES,
    READ_RESPONSES,
    SESSION_COOKIE,
    SESSION_PATH,
    MetricsAccess,
    OperatorAccess,
    ReadAccess,
    key_matches,
    may_read_page,
    open_warnings,
    session_cookie,
    session_valid,
    warn_if_open,
)
from app.core.http.allowed_hosts import AllowedHosts
from app.core.http.answers import json_answer
from app.core.http.body_limit import BodySizeLimit
from app.core.http.cross_site import CrossSiteGuard
from app.core.http.dependencies import (
    ClockDep,
    DatabaseDep,
    JobLogDep,
    RegistryDep,
    SettingsDep,
    from_state,
)
from app.core.http.error_handlers import install_error_handlers
from app.core.http.model_sync import ModelSync
from app.core.http.offline_docs import install_offline_docs
from app.core.http.request_log import RequestLog
from app.core.http.shutdown import ShutdownAnswer
from app.core.http.version_header import ModelVersionHeader

__all__ = [
    "OPERATOR_RESPONSES",
    "READ_RESPONSES",
    "SESSION_COOKIE",
    "SESSION_PATH",
    "AllowedHosts",
    "BodySizeLimit",
    "ClockDep",
    "CrossSiteGuard",
    "DatabaseDep",
    "JobLogDep",
    "MetricsAccess",
    "ModelSync",
    "ModelVersionHeader",
    "OperatorAccess",
    "ReadAccess",
    "RegistryDep",
    "RequestLog",
    "SettingsDep",
    "ShutdownAnswer",
    "from_state",
    "install_error_handlers",
    "install_offline_docs",
    "json_answer",
    "key_matches",
    "may_read_page",
    "open_warnings",
    "session_cookie",
    "session_valid",
    "warn_if_open",
]
