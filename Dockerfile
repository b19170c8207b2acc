# syntax=docker/dockerfile:1
# Quire in a container: build the release binary, then run it as a non-root user with /data as its volume.
#   docker build --tag quire .
#   docker run --publish 8080:8080 --volume quire-data:/data quire
# Configure with QUIRE_SECTION__KEY variables (see config.example.toml), e.g. --env QUIRE_SERVER__PUBLIC_URL=https://docs.example.com

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target/ between builds; the binary is copied out of the cached target/.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin quire \
    && cp target/release/quire /usr/local/bin/quire

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin quire \
    && mkdir --parents /data \
    && chown quire:quire /data
COPY --from=builder /usr/local/bin/quire /usr/local/bin/quire
ENV QUIRE_STORAGE__DATA_DIR=/data \
    QUIRE_SERVER__LISTEN=0.0.0.0:8080
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080
# The slim image has no curl; bash's /dev/tcp asks /healthz directly (the port follows QUIRE_SERVER__LISTEN above).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head --lines=1 <&3 | grep --quiet ' 200 '"]
ENTRYPOINT ["/usr/local/bin/quire"]
CMD ["serve"]
