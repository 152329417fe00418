"""Building images locally with pulumi-docker: no registry, no push, the legacy builder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.hosts import DockerHost, Placement
from infra.naming import Naming

IMAGES_DIR = Path(__file__).resolve().parent / "images"
REPO_ROOT = IMAGES_DIR.parent.parent
DIST_DOCKERFILE = IMAGES_DIR / "dist.Dockerfile"


def local_image(
    resource_name: str,
    tag: str,
    context: Path,
    dockerfile: Path,
    parent: pulumi.Resource,
    bases: dict[str, docker.Image] | None = None,
    args: dict[str, pulumi.Input[str]] | None = None,
    provider: docker.Provider | None = None,
) -> docker.Image:
    """Build `dockerfile` with `context` into the local engine under `tag`.

    Each image in `bases` is passed as build arg NAME (its tag, for FROM) and NAME_ID (its image
    id): the id changes whenever the base is rebuilt, which makes this image rebuild too.
    `provider` picks the engine that builds and keeps it (default: the parent's, else the default engine).
    """
    args = dict(args or {})
    for arg, base in (bases or {}).items():
        args[arg] = base.image_name
        args[f"{arg}_ID"] = base.repo_digest
    return docker.Image(
        resource_name,
        image_name=tag,
        build=docker.DockerBuildArgs(
            context=str(context),
            dockerfile=str(dockerfile),
            args=args,
            builder_version=docker.BuilderVersion.BUILDER_V1,
            platform="linux/amd64",
        ),
        skip_push=True,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )


def dist_image(resource_name: str, tag: str, artifacts: Path, parent: pulumi.Resource,
               provider: docker.Provider | None = None) -> docker.Image:
    """Pack a cached artifact folder (jars, a tarball tree, wheels) into an image to copy from."""
    if not artifacts.is_dir():
        raise FileNotFoundError(f"{artifacts} is missing: run `make setup` (toolchain/setup.sh) first")
    return local_image(resource_name, tag, artifacts, DIST_DOCKERFILE, parent, provider=provider)


def service_image(resource_name: str, naming: Naming, service: str, version: str, artifacts: Path,
                  base: docker.Image, parent: pulumi.Resource, provider: docker.Provider | None = None) -> docker.Image:
    """A JVM service image (infra/images/<service>): cached artifacts packed as `<service>-dist`, on `base`."""
    dist = dist_image(f"{resource_name}-dist", naming.image(f"{service}-dist", version), artifacts, parent, provider)
    folder = IMAGES_DIR / service
    return local_image(f"{resource_name}-image", naming.image(service, version), folder, folder / "Dockerfile",
                       parent, bases={"BASE_IMAGE": base, "DIST_IMAGE": dist}, provider=provider)


def service_images(resource_name: str, naming: Naming, service: str, version: str, artifacts: Path,
                   bases: docker.Image | dict[str, docker.Image], parent: pulumi.Resource,
                   placement: Placement) -> dict[str, docker.Image]:
    """`service_image` built on every host of `placement`, by host name: each engine keeps its own images.

    `bases` is the base image by host name, or one image on a single-host stack.
    """
    return {h.name: service_image(h.resource_name(resource_name, placement), naming, service, version, artifacts,
                                  on_host(bases, h), parent, h.provider)
            for h in placement.hosts}


def on_host(images: docker.Image | dict[str, docker.Image], host: DockerHost) -> docker.Image:
    """The image built on `host`: one of a by-host map, or the single image of a single-host stack."""
    return images[host.name] if isinstance(images, dict) else images


def image_ref(image: docker.Image) -> pulumi.Output[str]:
    """What containers run: the image id, so a rebuilt image replaces its containers."""
    return image.repo_digest


@dataclass
class BaseImagesArgs:
    naming: Naming
    wheels: Path
    spark_connectors: Path
    #: The bulk loader Spark nodes run (toolchain/bulkload.sh): a resolved bulkload-<ver>-<hash> folder.
    bulkload: Path


class BaseImages(pulumi.ComponentResource):
    """Images the clusters and apps build on: JRE and Python bases, the wheelhouse, Spark's connectors and
    bulk loader."""

    def __init__(self, name: str, args: BaseImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:BaseImages", name, {}, opts)
        n = args.naming
        self.jre = local_image(f"{name}-jre", n.image("jre", "17"), IMAGES_DIR / "jre",
                               IMAGES_DIR / "jre" / "Dockerfile", self)
        self.python = local_image(f"{name}-python", n.image("python", "3.11"), IMAGES_DIR / "python",
                                  IMAGES_DIR / "python" / "Dockerfile", self)
        self.wheels = dist_image(f"{name}-wheels", n.image("wheels-dist", args.wheels.name), args.wheels, self)
        self.spark_connectors = dist_image(f"{name}-spark-connectors", n.image("spark-connectors-dist",
                                           args.spark_connectors.name.removeprefix("spark-connectors-")),
                                           args.spark_connectors, self)
        self.bulkload = dist_image(f"{name}-bulkload", n.image("bulkload-dist",
                                   args.bulkload.name.removeprefix("bulkload-")),
                                   args.bulkload, self)
        self.register_outputs({})
