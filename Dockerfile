# syntax=docker/dockerfile:1
# Stage 1: install the locked dependencies and compile the single binary (migrations and the
# embedded PostgreSQL engine included).
FROM oven/bun:1-debian AS build
# Behind a TLS-intercepting proxy, `bun install` must trust the proxy's CA: build with
# `--build-arg NODE_EXTRA_CA_CERTS=/run/extra-ca.pem --volume "$bundle:/run/extra-ca.pem:ro"`.
# Unset, nothing changes; it belongs to this stage only, so the final image keeps no trace of it.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json bun.lock ./
COPY patches ./patches
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# Stage 2: only the binary, run as an unprivileged user, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin topicdesk \
	&& mkdir -p /data && chown topicdesk /data
COPY --from=build /app/dist/topicdesk /usr/local/bin/topicdesk
USER topicdesk
WORKDIR /data
# BUN_JSC_useFTLJIT=0, as `bun start`: the engine's top tier (FTL) costs CPU compiling at a light
# load and makes nothing faster (README, "The JavaScript engine's top tier").
ENV NODE_ENV=production \
	BUN_JSC_useFTLJIT=0 \
	DATA_DIR=/data \
	PORT=3000 \
	HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 3000
# The binary asks itself: no HTTP client in the image only for this.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
	CMD ["/usr/local/bin/topicdesk", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/topicdesk"]
