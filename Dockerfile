# Caddy's official image with consentedge, built from this repository:
#
#	docker build -t caddy-consentedge .
#
# The pattern of the image's "Adding custom Caddy modules"
# (https://hub.docker.com/_/caddy): xcaddy in the builder image, then the
# binary into the plain image. The builder's CADDY_VERSION is the tag's;
# keep the tag at go.mod's Caddy. .ci/xcaddy-build runs this RUN line
# against the checkout, so that CI builds what this file builds.
FROM caddy:2.11.9-builder AS builder
WORKDIR /src/consentedge
COPY . .
RUN xcaddy build --with github.com/consentedge/consentedge=.

FROM caddy:2.11.9
COPY --from=builder /src/consentedge/caddy /usr/bin/caddy
