# The AI service: runtime dependencies only, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY app ./app
RUN mkdir -p /app/data/models /app/data/secrets /app/logs && chown -R app:app /app/data /app/logs

USER app
ENV AI_SERVICE_HOST=0.0.0.0 \
    AI_SERVICE_PORT=8000 \
    MODEL_SAVE_PATH=/app/data/models \
    LOG_DIR=/app/logs
EXPOSE 8000

# Liveness only: the endpoint touches neither MongoDB nor the models.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/live', timeout=4)"]

CMD ["python", "-m", "app.server"]
