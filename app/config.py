"""One source of configuration: every setting, read from the environment and `.env`, validated."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import config_values

# The methods the *_MODEL_TYPE settings may name, re-exported beside the settings.
from app.config_values import AnomalyMethod as AnomalyMethod
from app.config_values import ForecastMethod as ForecastMethod
from app.config_values import RecommenderMethod as RecommenderMethod

APP_NAME = "Adaptive BI AI Service"
APP_VERSION = "2.0.0"
MAX_FORECAST_HORIZON = 30
MIN_KEY_LENGTH = 32  # characters of MODEL_SIGNING_KEY
POPULAR_DAYS = 28  # popular products: most distinct buyers over this many days
# ALLOWED_HOSTS by default: the loopback names, and the compose service's name, by which the
# platform's backend calls it (http://ai_service:8000).
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1", "ai_service")


class Settings(BaseSettings):
    """Settings keep the original service's environment names; new ones are UPPER_SNAKE too."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", case_sensitive=True, extra="ignore"
    )

    # Server
    AI_SERVICE_HOST: str = "0.0.0.0"
    AI_SERVICE_PORT: int = Field(8000, ge=1, le=65535)
    AI_SERVICE_WORKERS: int = Field(
        default_factory=lambda: min(len(os.sched_getaffinity(0)), 8),
        ge=1,
        le=64,
        description="Server processes sharing the port (default: the cores this process may "
        "use, at most 8; in a container with a CPU quota, set it).",
    )
    AI_SERVICE_DEBUG: bool = False
    CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Origins whose pages may call the API from a browser; none by default. `*` "
        "allows any origin, never with credentials, and cannot be combined with others.",
    )
    AI_SERVICE_KEEP_ALIVE_SECONDS: int = Field(
        75,
        ge=1,
        le=3600,
        description="How long an idle keep-alive connection stays open. Above the idle timeout "
        "of the callers' connection pools (httpx 5 s, Node's agents about 4-5 s), as load "
        "balancers do (nginx 75 s): a server that closes first can close a connection just "
        "as a client sends on it, which fails that request (a ReadError).",
    )
    AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS: int = Field(
        5,
        ge=1,
        le=60,
        description="How long shutdown waits for requests under way; keep it under the "
        "orchestrator's kill delay (docker's stop_grace_period, 10 s by default).",
    )
    AI_SERVICE_MAX_CONCURRENCY: int = Field(
        1000,
        ge=1,
        description="Connections and requests the server holds at once; beyond it new ones "
        "get a 503 at once, so slow or idle clients cannot exhaust the process.",
    )
    TRUSTED_PROXIES: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Addresses (or networks) of the reverse proxies whose `X-Forwarded-For` "
        "names the client; none by default: the header is ignored, whatever uvicorn's "
        "FORWARDED_ALLOW_IPS says. `*` trusts any sender.",
    )
    ALLOWED_HOSTS: Annotated[list[str], NoDecode] = Field(
        default=list(DEFAULT_ALLOWED_HOSTS),
        description="Host names the service answers to (the `Host` header, port aside); others "
        "get 400, so that a page of a foreign name resolving here (DNS rebinding) reads "
        "nothing. `*.example.com` allows its subdomains, `*` any host. The health probes "
        "answer every host.",
    )
    REQUEST_HEAD_TIMEOUT_SECONDS: float = Field(
        10,
        gt=0,
        le=300,
        description="Time a connection has to send its request head, from its opening (for a "
        "later request on a kept-alive connection, from that request's first byte); total, not "
        "idle time. Past it the server closes the connection (408 if part of a head came): "
        "clients holding half-sent heads cannot fill AI_SERVICE_MAX_CONCURRENCY.",
    )

    # Access control (README, "Access control")
    API_KEYS: Annotated[list[SecretStr], NoDecode] = Field(
        default=[],
        description="Keys a caller sends as X-API-Key to train (and to read, with "
        "AUTH_REQUIRED_FOR_READS); none: training only from the service's own machine.",
    )
    AUTH_REQUIRED_FOR_READS: bool = Field(
        False, description="Reads need a key too, except health, `/` and the documentation."
    )
    # Sessions of the page for people, and /metrics (README, "Access control")
    UI_SESSION_HOURS: float = Field(
        12,
        gt=0,
        le=24 * 30,
        description="How long a sign-in to `/ui` lasts (with AUTH_REQUIRED_FOR_READS): the "
        "session cookie's expiry.",
    )
    METRICS_KEY: SecretStr | None = Field(
        None,
        description="When set, `/metrics` needs it as `Authorization: Bearer <key>` or "
        "X-API-Key; unset: `/metrics` is open, even with AUTH_REQUIRED_FOR_READS.",
    )

    @field_validator("METRICS_KEY", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`METRICS_KEY=` (as in .env.example) leaves /metrics open, not locked by an empty key."""
        return None if isinstance(value, str) and not value.strip() else value

    TRAIN_COOLDOWN_SECONDS: float = Field(
        60, ge=0, description="Least time between the trainings of one model asked for; 0: off."
    )
    MAX_REQUEST_BODY_BYTES: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="Largest request body, read or announced (more: 413 before parsing). "
        "MAX_DETECT_POINTS (10,000) whole producer transactions, nested shipping address "
        "included, are about 4.7 MB of JSON (470 bytes each); 8 MiB leaves room for more "
        "fields or indented JSON. Raise it with MAX_DETECT_POINTS.",
    )
    REQUEST_BODY_TIMEOUT_SECONDS: float = Field(
        30,
        gt=0,
        description="Time a request's body has to arrive, from the request's start (more: "
        "408): a client sending its body slowly would otherwise hold its connection forever.",
    )

    # MongoDB
    MONGODB_URL: str = "mongodb://localhost:27017"
    DATABASE_NAME: str = "adaptive_bi"
    MONGODB_TIMEOUT_MS: int = Field(2000, ge=100, description="Server selection timeout.")
    MONGODB_CONNECT_TIMEOUT_MS: int = Field(
        60_000, ge=1000, description="Connect and heartbeat timeout; a busy server must answer."
    )
    DB_WATCH_INTERVAL_SECONDS: float = Field(5.0, gt=0, description="How often the DB is pinged.")

    # Embedded database used by `make run` when MONGODB_URL is unreachable
    EMBEDDED_DB_PATH: Path = Path("data/db")
    EMBEDDED_DB_PORT: int = Field(27018, ge=1, le=65535)

    # Field and collection names of the producer's schema (contract section 4)
    TRANSACTIONS_COLLECTION: str = "transactions"
    PRODUCTS_COLLECTION: str = "products"
    TRANSACTION_DATE_FIELD: str = "transactionDate"
    TRANSACTION_AMOUNT_FIELD: str = "totalPrice"
    TRANSACTION_QUANTITY_FIELD: str = "quantity"
    TRANSACTION_USER_FIELD: str = "userId"
    TRANSACTION_PRODUCT_FIELD: str = "productId"
    TRANSACTION_STATUS_FIELD: str = "status"
    PRODUCT_ID_FIELD: str = "productId"
    PRODUCT_NAME_FIELD: str = "name"
    PRODUCT_CATEGORY_FIELD: str = "category"
    PRODUCT_PRICE_FIELD: str = "price"
    PRODUCT_STOCK_FIELD: str = "stock"
    NON_SALE_STATUSES: Annotated[list[str], NoDecode] = ["failed", "returned"]

    # Models
    MODEL_STORE: Literal["local", "gridfs"] = Field(
        "local",
        description="Where model versions are kept: `local` (MODEL_SAVE_PATH; replicas share it "
        "as a volume) or `gridfs` (MongoDB GridFS, shared by every replica; MODEL_SAVE_PATH then "
        "keeps each host's copy of the versions it served).",
    )
    MODEL_GRIDFS_BUCKET: str = Field(
        "ai_service_models",
        pattern=r"^[A-Za-z0-9_]{1,60}$",
        description="The GridFS bucket of MODEL_STORE=gridfs (its `.files`, `.chunks` and "
        "`.current` collections).",
    )
    MODEL_SAVE_PATH: Path = Path("data/models")
    MODEL_KEEP_VERSIONS: int = Field(
        5, ge=1, le=100, description="Versions kept per model (the live one is never pruned)."
    )
    MODEL_SIGNING_KEY: SecretStr | None = Field(
        None,
        description="Key of the HMAC-SHA256 that every saved model carries; a model whose "
        "signature does not match is never loaded. Replicas sharing a store need the same key.",
    )
    MODEL_SIGNING_KEY_FILE: Path = Field(
        Path("data/secrets/model-signing.key"),
        description="Without MODEL_SIGNING_KEY, the key is made once and kept here, outside "
        "MODEL_SAVE_PATH.",
    )
    MODEL_SYNC_SECONDS: float = Field(
        2,
        gt=0,
        description="How often an idle process checks the store for a version another one "
        "saved (requests check before they are served).",
    )
    RETRAIN_INTERVAL_HOURS: float = Field(24, ge=0, description="0 turns periodic retraining off.")
    UNTRAINED_RETRY_MINUTES: float = Field(
        10, ge=0, description="How often models not trained yet are tried again; 0: never."
    )
    TRAIN_WAIT_SECONDS: float = Field(
        20,
        ge=0,
        description="How long POST .../train waits for the training; a longer one answers 202 "
        "with its job.",
    )
    JOBS_COLLECTION: str = Field(
        "ai_service_jobs", description="Where training jobs are recorded (the service's own)."
    )
    TRAINING_TIMEOUT_SECONDS: float = Field(
        900,
        gt=0,
        description="Bound on all the database reads of one training together; past it the "
        "training fails with 503 and the model in service stays.",
    )
    DATA_COLLECTION_DAYS: int = Field(90, ge=28, le=3650, description="Forecasting needs 28.")
    ROLLUP_SETTLE_DAYS: int = Field(
        3,
        ge=0,
        le=365,
        description="Days before the rollups' end aggregated again at each update: a "
        "transaction's status can still change, or it can arrive late.",
    )
    FORECAST_HORIZON: int = Field(7, ge=1, le=MAX_FORECAST_HORIZON)
    FORECAST_MODEL_TYPE: ForecastMethod = "auto"
    FORECAST_MAX_CATEGORIES: int = Field(
        50, ge=0, le=1000, description="Categories with the most sales get a forecast of their own."
    )
    ANOMALY_FLAG_RATE: float = Field(
        0.02,
        gt=0,
        le=0.5,
        description="Share of transactions flagged, kept on the recent days (the flag budget).",
    )
    ANOMALY_THRESHOLD: float | None = Field(
        None,
        gt=0,
        le=0.5,
        description="Deprecated: the former name of ANOMALY_FLAG_RATE, used when that is unset.",
    )
    ANOMALY_CALIBRATION_DAYS: int = Field(
        7, ge=1, le=90, description="Last days of the window the flag rate is calibrated on."
    )
    ANOMALY_MODEL_TYPE: AnomalyMethod = "ECOD"
    ANOMALY_SAMPLE_SIZE: int = Field(
        200_000, ge=100, le=2_000_000, description="Most recent transactions trained on."
    )
    MAX_DETECT_POINTS: int = Field(10_000, ge=1, le=100_000, description="Points per detect call.")
    ANOMALY_RECENT_MAX_DAYS: int = Field(
        90, ge=1, le=3650, description="Longest window GET /anomaly/recent scores."
    )
    ANOMALY_RECENT_TIMEOUT_SECONDS: float = Field(
        30, gt=0, description="Bound on the database reads of one GET /anomaly/recent."
    )
    MIN_INTERACTIONS_FOR_RECOMMENDATION: int = Field(5, ge=1)
    RECOMMENDER_MODEL_TYPE: RecommenderMethod = "auto"
    RECOMMENDER_COMPONENTS: int = Field(50, ge=2, le=500, description="SVD and ALS factors.")
    RECOMMEND_EVAL_DAYS: int = Field(
        14, ge=1, le=365, description="Last days held out to evaluate the recommenders."
    )
    RECOMMEND_MAX_MODEL_MB: float = Field(
        512, gt=0, description="Largest items x items matrix (EASE) a training may build."
    )
    RECOMMEND_REFRESH_SECONDS: float = Field(
        60, gt=0, description="How often product details and new purchases are read."
    )
    RECOMMEND_READ_TIMEOUT_SECONDS: float = Field(
        30, gt=0, description="Bound on one background read of the recommendation filters."
    )

    # Logging
    LOG_DIR: Path = Path("logs")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Declared by the original service, never used by it nor by this one (keys: API_KEYS).
    JWT_SECRET_KEY: str | None = None
    ALGORITHM: str = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(30, ge=1)

    @field_validator(
        "CORS_ORIGINS",
        "NON_SALE_STATUSES",
        "API_KEYS",
        "TRUSTED_PROXIES",
        "ALLOWED_HOSTS",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Lists come from the environment as comma-separated text: `a,b,c`."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("CORS_ORIGINS")
    @classmethod
    def _wildcard_alone(cls, origins: list[str]) -> list[str]:
        """`*` with named origins is a mistake either way: it allows every origin."""
        if "*" in origins and len(origins) > 1:
            raise ValueError("`*` allows every origin: list origins, or `*` alone")
        return [origin.rstrip("/") for origin in origins]

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _proxy_addresses(cls, proxies: list[str]) -> list[str]:
        return config_values.proxy_addresses(proxies)

    @field_validator("ALLOWED_HOSTS")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        return config_values.host_names(hosts)

    @model_validator(mode="after")
    def _keys_for_reads(self) -> "Settings":
        if self.AUTH_REQUIRED_FOR_READS and not self.API_KEYS:
            raise ValueError(
                "AUTH_REQUIRED_FOR_READS needs API_KEYS: with no key, no one could read"
            )
        return self

    @model_validator(mode="after")
    def _former_flag_rate_name(self) -> "Settings":
        """ANOMALY_THRESHOLD, the setting's name before it held on the days scored, still
        sets the budget when ANOMALY_FLAG_RATE is not set."""
        if self.ANOMALY_THRESHOLD is not None and "ANOMALY_FLAG_RATE" not in self.model_fields_set:
            self.ANOMALY_FLAG_RATE = self.ANOMALY_THRESHOLD
        return self

    @model_validator(mode="after")
    def _evaluation_inside_window(self) -> "Settings":
        if self.RECOMMEND_EVAL_DAYS >= self.DATA_COLLECTION_DAYS:
            raise ValueError(
                "RECOMMEND_EVAL_DAYS must be shorter than DATA_COLLECTION_DAYS: the days held "
                "out are taken from the window"
            )
        return self

    @field_validator("MODEL_SIGNING_KEY")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_KEY_LENGTH} characters (e.g. openssl rand -hex 32)"
            )
        return value

    @model_validator(mode="after")
    def _key_apart_from_models(self) -> "Settings":
        """A key written next to the models would let whoever writes them sign them too."""
        if self.MODEL_SIGNING_KEY_FILE.resolve().is_relative_to(self.MODEL_SAVE_PATH.resolve()):
            raise ValueError(
                "MODEL_SIGNING_KEY_FILE must not be inside MODEL_SAVE_PATH: keep the key "
                "elsewhere, or set MODEL_SIGNING_KEY"
            )
        return self

    @field_validator("MONGODB_URL")
    @classmethod
    def _mongodb_scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value


class SettingsError(SystemExit):
    """Names each invalid setting. A SystemExit, so that any entry point (the launcher, the
    server, `uvicorn app.main:app`, the demo-data command) stops with this message alone, exit
    code 1, rather than a traceback."""


def load_settings() -> Settings:
    """Builds the settings, turning pydantic's error into one line per invalid setting."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"Invalid configuration: {problems}") from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built once on first use (never at import)."""
    return load_settings()
