# grok2api in a container: built with Bun, run as the compiled binary on a slim base, non-root.
#   docker build -t grok2api .
#   docker run -p 9527:9527 -e XAI_API_KEY=xai-… -e GROK2API_API_KEYS=a-long-client-key grok2api
# With a config file: -v /etc/grok2api:/etc/grok2api:ro … grok2api --config /etc/grok2api/config.toml
# The container listens on 0.0.0.0, so an upstream key needs client keys (GROK2API_API_KEYS).
# SIGHUP (docker kill -s HUP) reloads the config. docker stop lets open streams finish, but
# waits only 10 s by default: use docker stop -t 40 (shutdown_grace defaults to 30).
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts
# What `bun run build` reads: the build script, the compiler settings and the sources
# (tests/deploy.test.ts checks this list against the build).
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN bun run build \
 && ./dist/grok2api --version

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin grok2api \
 && install -d -o grok2api -g grok2api -m 0750 /app /app/logs
COPY --from=build /src/dist/grok2api /usr/local/bin/grok2api
WORKDIR /app
USER 10001:10001
ENV GROK2API_HOST=0.0.0.0
# Bun's fetch runs at most 256 upstream requests at once unless told otherwise at start-up.
ENV BUN_CONFIG_MAX_HTTP_REQUESTS=4096
EXPOSE 9527
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/grok2api"]
