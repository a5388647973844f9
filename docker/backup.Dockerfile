# db-backup: scheduled, verified pg_dump backups (ops/backup). Runs the TypeScript sources on Node 24 directly.
#
#   docker build -f docker/backup.Dockerfile -t ctf-instancer/backup .
#
# Classic-builder compatible (no RUN --mount). The PostgreSQL 18 client comes from the PostgreSQL project's own apt
# repository (PGDG, https://wiki.postgresql.org/wiki/Apt): pg_dump must be at least the server's major version, and
# 18 reads every server from 9.2 up.
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE}

ARG PG_MAJOR=18
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl tini pigz; \
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
# ops/backup/backup.sh is the `backup` command (the root .dockerignore keeps docker/* out of the context).
RUN chmod 0755 ops/backup/backup.sh ops/backup/warm-cache.sh && ln -s /app/ops/backup/backup.sh /usr/local/bin/backup \
    && install -d -o node -g node -m 0750 /backups && install -d -o node -g node -m 0755 /app/.node-compile-cache

ENV NODE_ENV=production \
    BACKUP_DIR=/backups \
    PG_DUMP_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump \
    PG_RESTORE_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_restore \
    BACKUP_HEALTH_PORT=8080 \
    NODE_COMPILE_CACHE=/app/.node-compile-cache
USER node
# Node's compile cache of every module `backup` loads, filled at build time as the user that runs it (the cache is per
# user and per V8 flags): a container's first start does not load the TypeScript stripper (~20 MB, 0.15 s).
RUN ops/backup/warm-cache.sh
VOLUME ["/backups"]
EXPOSE 8080
# Unhealthy when the last run failed or the last good backup is older than BACKUP_HEALTH_MAX_AGE_FACTOR periods.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BACKUP_HEALTH_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--", "backup"]
CMD ["serve"]
