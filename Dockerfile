# seedbake as a container image that holds nothing but the static binary.
#
#   docker build -t seedbake .
#   docker run --rm -e DATABASE_URL=libsql://… -e TURSO_AUTH_TOKEN=… seedbake reset --yes --no-images
#
# (--no-images: the container has no app static folder for the figure
# pictures; see README.md, "Figure images".)
#
# Builder: the Rust toolchain builds the statically linked executable
# (scripts/build-static: glibc with a static C runtime, libSQL linked in).
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cp "$(scripts/build-static --locked)" /seedbake

# Final: an empty image. The seed, the TLS roots and the DNS client are in
# the binary; it reads no file (Docker and fly.io add /etc/resolv.conf, which
# seedbake uses when present; else set SEEDBAKE_DNS).
FROM scratch
COPY --from=builder /seedbake /seedbake
# Automatic backups go to ./exports: mount a volume here to keep them.
WORKDIR /data
ENTRYPOINT ["/seedbake"]
