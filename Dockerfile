# syntax=docker/dockerfile:1
# The signing service: a slim, non-root image running the production server command (bin/serve).
# Build: docker build -t coronacheck-signing .   Local stack: docker compose up (compose.yaml).

# --- build: a virtual environment with the pinned requirements, compiled bytecode, static files ---
FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-compile -r requirements.txt
COPY . .
# Static files once per image: hashed names and gzip copies, served by the app (servestatic).
RUN DEBUG=false STATIC_ROOT=/app/static python manage.py collectstatic --noinput -v 0 \
 && python -m compileall -q /app /opt/venv

# --- runtime: the venv and the application, owned by root and run as an unprivileged user ---
FROM python:3.11.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 coronacheck \
 && useradd --system --uid 10001 --gid coronacheck --home-dir /app --no-create-home --shell /usr/sbin/nologin coronacheck \
 && mkdir -p /secrets /tmp/prometheus \
 && chown coronacheck:coronacheck /secrets /tmp/prometheus
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=coronacheck.settings \
    DEBUG=false \
    STATIC_ROOT=/app/static \
    STATIC_MANIFEST=true \
    SECRETS_FOLDER=/secrets \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "coronacheck.healthcheck"]
CMD ["bin/serve"]
