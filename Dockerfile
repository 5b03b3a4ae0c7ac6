# stsync in a container.
#   docker build -t stsync .
#   docker run -d --name stsync -v stsync-data:/var/lib/stsync \
#     -v /etc/stsync/stsync.yaml:/etc/stsync/stsync.yaml:ro \
#     -e ST_TENANT -e ST_CLIENT_ID -e ST_CLIENT_SECRET -e ST_APP_KEY stsync
# `docker stop` sends SIGTERM: stsync stops within 5 s with nothing lost.

FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends build-essential cmake pkg-config \
      libcpp-httplib-dev libssl-dev rapidjson-dev libsqlite3-dev \
      libyaml-cpp-dev libspdlog-dev doctest-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY daemon daemon
COPY migrations migrations
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTSYNC_TESTS=OFF \
      -DSTSYNC_FAKE=OFF \
    && cmake --build build -j"$(nproc)" \
    && strip build/stsync

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends ca-certificates libcpp-httplib0.11 libssl3 \
      libsqlite3-0 libyaml-cpp0.7 libspdlog1.10 libfmt9 sqlite3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/stsync --shell /usr/sbin/nologin stsync \
    && install -d -o stsync -g stsync -m 0750 /var/lib/stsync /etc/stsync
COPY --from=build /src/build/stsync /usr/local/bin/
COPY config/stsync.example.yaml /etc/stsync/stsync.example.yaml
USER stsync
VOLUME /var/lib/stsync
ENTRYPOINT ["/usr/local/bin/stsync"]
CMD ["run", "-c", "/etc/stsync/stsync.yaml"]
