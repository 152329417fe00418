# Packs a folder of cached, checksum-verified artifacts (jars, tarball trees, wheels) into an image
# that service images copy from. Built with the artifact folder as context, so nothing large enters the repo.
FROM scratch
COPY . /dist/
