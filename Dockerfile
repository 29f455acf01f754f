# Debrief's container image: `docker build -t debrief .` (or `podman build`).
# Migrations are a separate step: `docker run --rm --env-file .env debrief debrief migrate`
# (compose.yaml runs it as its own service before the app starts).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY providers ./providers
COPY sandbox ./sandbox
COPY understanding ./understanding
RUN python3 -m venv /opt/debrief && /opt/debrief/bin/pip install .

FROM ${PYTHON_IMAGE}
# A system user with no shell and no password; the database file (SQLite) and .env live in its home.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/debrief \
        --shell /usr/sbin/nologin debrief
COPY --from=build /opt/debrief /opt/debrief
ENV PATH=/opt/debrief/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/debrief/debrief.db
USER debrief
WORKDIR /var/lib/debrief
VOLUME ["/var/lib/debrief"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
CMD ["debrief", "serve"]
