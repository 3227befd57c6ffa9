from app.core.http.error_handlers import describe_validation_errors


def test_a_long_key_and_message_are_cut_short() -> None:
    error = {
        "type": "value_error",
        "loc": ("body", "data_points", 0, "k" * 10_000),
        "msg": "m" * 10_000,
        "input": "v" * 10_000,
    }

    detail = describe_validation_errors([error])

    assert detail.startswith(f"Field 'data_points[0].{'k' * 37}...': {'m' * 197}...")
    assert len(detail) < 320
