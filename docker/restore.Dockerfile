# db-restore: drop-a-file restores (ops/restore). Runs the TypeScript sources on Node 24 directly.
#
#   docker build -f docker/restore.Dockerfile -t ctf-instancer/restore .
#
# Classic-builder compatible (no RUN --mount). The PostgreSQL 18 client comes from the PostgreSQL project's own apt
# repository (PGDG, https://wiki.postgresql.org/wiki/Apt): pg_dump must be at least the server's major version, and
# 18 reads every server from 9.2 up.
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE}

ARG PG_MAJOR=18
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl tini; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    apt-get purge -y curl; apt-get autoremove -y; \
    rm -rf /var/lib/apt/lists/*; \
    "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump" --version

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-save --no-audit --no-fund --loglevel=warn && npm cache clean --force
COPY ops/ ./ops/
COPY infra/env.ts infra/logger.ts infra/redact.ts infra/probe-server.ts ./infra/
# ops/restore/restore.sh is the `restore` command (the root .dockerignore keeps docker/* out of the context).
RUN chmod 0755 ops/restore/restore.sh && ln -s /app/ops/restore/restore.sh /usr/local/bin/restore

ENV NODE_ENV=production \
    RESTORE_WATCH_DIR=/backups/restore \
    PG_DUMP_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump \
    PG_RESTORE_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_restore \
    PSQL_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin/psql
# Runs as root: it talks to the Docker socket (mounted by compose.backup.yml) and keeps SQLite files' owners.
EXPOSE 9465
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.RESTORE_METRICS_PORT||9465)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--", "restore"]
CMD ["serve"]
