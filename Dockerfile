# hashproxy container image: a static binary on an empty base, run as a
# non-root user.
#
#   docker build --build-arg VERSION=1.0.0 --build-arg COMMIT=$(git rev-parse HEAD) -t hashproxy .
#   docker run -v $PWD/hashproxy.yaml:/etc/hashproxy/hashproxy.yaml:ro hashproxy
#
# The configuration is read from /etc/hashproxy/hashproxy.yaml (native or
# twemproxy format); mount a file or a ConfigMap directory there. The
# built-in one is configs/hashproxy.yaml. Ports: 22122 memcached (the pool's
# listen), 22120 admin HTTP (/metrics, /healthz, /readyz). A pool or admin
# listener on 127.0.0.1 is reachable only inside the container's network
# namespace (a sidecar's pod); listen on 0.0.0.0 to publish it.
#
# The build command is scripts/build.sh, which CI also runs
# (scripts/docker-build-check.sh) since no Docker engine runs there.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN sh scripts/build.sh /out/hashproxy "$VERSION" "$COMMIT"

FROM scratch
COPY --from=build /out/hashproxy /usr/local/bin/hashproxy
COPY configs/hashproxy.yaml /etc/hashproxy/hashproxy.yaml
# A numeric user, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 22122 22120
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/hashproxy", "healthcheck", "--url", "http://127.0.0.1:22120/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hashproxy"]
CMD ["serve", "--config", "/etc/hashproxy/hashproxy.yaml", "--watch-config"]
