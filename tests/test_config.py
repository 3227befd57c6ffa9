import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_original_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANOMALY_THRESHOLD", "0.1")
    monkeypatch.setenv("FORECAST_MODEL_TYPE", "LinearRegression")
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("RETRAIN_INTERVAL_HOURS", "0")

    settings = Settings(_env_file=None)

    assert settings.ANOMALY_THRESHOLD == 0.1
    assert settings.ANOMALY_FLAG_RATE == 0.1  # the former name sets the flag budget
    assert settings.FORECAST_MODEL_TYPE == "LinearRegression"
    assert settings.CORS_ORIGINS == ["http://a.example", "http://b.example"]
    assert settings.RETRAIN_INTERVAL_HOURS == 0


def test_producer_field_names_are_the_defaults() -> None:
    settings = Settings(_env_file=None)

    assert settings.TRANSACTION_DATE_FIELD == "transactionDate"
    assert settings.TRANSACTION_AMOUNT_FIELD == "totalPrice"
    assert settings.PRODUCT_NAME_FIELD == "name"
    assert settings.NON_SALE_STATUSES == ["failed", "returned"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ANOMALY_THRESHOLD", "2", "ANOMALY_THRESHOLD: Input should be less than or equal to 0.5"),
        ("FORECAST_MODEL_TYPE", "Prophet", "FORECAST_MODEL_TYPE: Input should be"),
        ("MONGODB_URL", "localhost:27017", "MONGODB_URL: Value error, must start with mongodb://"),
        ("AI_SERVICE_PORT", "eighty", "AI_SERVICE_PORT: Input should be a valid integer"),
    ],
)
def test_invalid_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError, match=r"^Invalid configuration: ") as error:
        load_settings()

    assert message in str(error.value)


@pytest.mark.slow
def test_importing_the_app_creates_nothing_and_defers_the_ml_stack(tmp_path: Path) -> None:
    """The API answers before pandas, scikit-learn, SciPy and statsmodels, which take seconds, are
    imported."""
    code = (
        "import sys, app.main, app.dev.launch, app.dev.demo.cli; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'joblib', 'pandas', 'statsmodels') "
        "if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, capture_output=True
    )

    assert list(tmp_path.iterdir()) == []
    assert done.stdout.decode().strip() == "[]"


def test_api_keys_are_comma_separated_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", "first-secret, second-secret")

    settings = Settings(_env_file=None)

    assert [key.get_secret_value() for key in settings.API_KEYS] == [
        "first-secret",
        "second-secret",
    ]
    assert "first-secret" not in repr(settings)
    assert "second-secret" not in str(settings.model_dump())


def test_access_defaults() -> None:
    settings = Settings(_env_file=None)

    assert settings.API_KEYS == []
    assert settings.CORS_ORIGINS == []
    assert settings.AUTH_REQUIRED_FOR_READS is False
    assert settings.TRAIN_COOLDOWN_SECONDS == 60


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"CORS_ORIGINS": "*,https://a.example"}, "list origins, or `*` alone"),
        ({"AUTH_REQUIRED_FOR_READS": "true"}, "AUTH_REQUIRED_FOR_READS needs API_KEYS"),
        ({"TRAIN_COOLDOWN_SECONDS": "-1"}, "TRAIN_COOLDOWN_SECONDS: Input should be greater"),
        ({"MAX_REQUEST_BODY_BYTES": "10"}, "MAX_REQUEST_BODY_BYTES: Input should be greater"),
    ],
)
def test_invalid_access_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError, match=r"^Invalid configuration: ") as error:
        load_settings()

    assert message in str(error.value)


def test_a_short_signing_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_SIGNING_KEY", "too-short")

    with pytest.raises(SettingsError, match=r"MODEL_SIGNING_KEY: .*at least 32 characters"):
        load_settings()
