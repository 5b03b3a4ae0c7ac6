# stsync in a container: mount a config and a *directory* for the database.
#   docker build -t stsync .
#   docker run -d --name stsync -v stsync-data:/var/lib/stsync \
#     -v /etc/stsync:/etc/stsync:ro \
#     -e ST_TENANT -e ST_CLIENT_ID -e ST_APP_KEY \
#     --secret/-v for the client secret (client_secret_file) stsync
# `docker stop` sends SIGTERM: stsync (PID 1, it starts no children) stops
# within 5 s with nothing lost. HEALTHCHECK runs `stsync health`.

# Build stage: the same dependency script as the README's quick start.
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake cmake
COPY daemon daemon
COPY migrations migrations
COPY config config
COPY systemd systemd
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSTSYNC_TESTS=OFF \
      -DSTSYNC_FAKE=OFF \
    && cmake --build build -j"$(nproc)" \
    && strip build/stsync

# Runtime stage: the binary, its runtime libraries and CA certificates. No
# compiler, no fake server, no tests.
FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends ca-certificates libcpp-httplib0.11 libssl3 \
      libsqlite3-0 libpq5 libyaml-cpp0.7 libspdlog1.10 libfmt9 libsystemd0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/stsync \
         --shell /usr/sbin/nologin stsync \
    && install -d -o stsync -g stsync -m 0750 /var/lib/stsync \
    && install -d -m 0755 /etc/stsync
COPY --from=build /src/build/stsync /usr/local/bin/stsync
COPY config/stsync.example.yaml /etc/stsync/stsync.example.yaml
USER stsync
VOLUME /var/lib/stsync
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=1m --timeout=15s --start-period=15m --retries=3 \
  CMD ["/usr/local/bin/stsync", "health", "-c", "/etc/stsync/stsync.yaml"]
ENTRYPOINT ["/usr/local/bin/stsync"]
CMD ["run", "-c", "/etc/stsync/stsync.yaml"]
