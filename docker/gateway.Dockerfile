# Gateway image: the official nginx image plus the gateway's renderer, templates and entrypoint.
# Build from the repository root: docker build -f docker/gateway.Dockerfile -t ctf-instancer/gateway .
#
# The renderer is POSIX sh + awk (busybox here), so the gateway carries no Node runtime: a smaller image and
# less to patch on the one container that faces the internet. The official image's own /docker-entrypoint.d
# and templates mechanism are removed so that exactly one thing writes the configuration.
ARG NGINX_IMAGE=nginx:1.27-alpine
FROM ${NGINX_IMAGE}

COPY gateway/render.sh gateway/entrypoint.sh gateway/template.awk /opt/gateway/
COPY gateway/templates/ /opt/gateway/templates/
RUN set -eux; \
    chmod 0755 /opt/gateway/render.sh /opt/gateway/entrypoint.sh; \
    chmod -R a+rX /opt/gateway; \
    rm -rf /docker-entrypoint.d /docker-entrypoint.sh /etc/nginx/conf.d/default.conf /etc/nginx/templates; \
    mkdir -p /run/gateway-flags /var/www/certbot /var/log/gateway; \
    chmod 0755 /run/gateway-flags /var/www/certbot /var/log/gateway

# Everything nginx writes goes under GATEWAY_RENDER_DIR (a tmpfs in compose): the root filesystem can be read-only.
ENV GATEWAY_RENDER_DIR=/tmp/gateway \
    GATEWAY_WORKER_USER=nginx \
    GATEWAY_UPSTREAM=web:5000 \
    GATEWAY_LISTEN=8000 \
    GATEWAY_TLS_LISTEN=8443 \
    GATEWAY_FLAG_DIR=/run/gateway-flags

EXPOSE 8000 8443
# Graceful: in-flight requests finish before nginx exits.
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/opt/gateway/entrypoint.sh"]
CMD []
