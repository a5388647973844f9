# CrowdSec firewall bouncer from Debian's own package (bookworm: crowdsec-firewall-bouncer 0.0.25), so no
# third-party image sits on the host's firewall. It runs with the host's network namespace and NET_ADMIN/NET_RAW
# (see docker/example.compose.security.yml) and adds its rules to INPUT and DOCKER-USER.
# Build from the repository root: docker build -f docker/crowdsec/firewall-bouncer.Dockerfile .
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      crowdsec-firewall-bouncer iptables ipset ca-certificates; \
    rm -rf /var/lib/apt/lists/*
COPY docker/crowdsec/bouncer-entrypoint.sh /usr/local/bin/bouncer-entrypoint.sh
RUN chmod 0755 /usr/local/bin/bouncer-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/bouncer-entrypoint.sh"]
