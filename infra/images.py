"""Building images locally with pulumi-docker: no registry, no push, the legacy builder."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker

IMAGES_DIR = Path(__file__).resolve().parent / "images"
REPO_ROOT = IMAGES_DIR.parent.parent
DIST_DOCKERFILE = IMAGES_DIR / "dist.Dockerfile"


def local_image(
    resource_name: str,
    tag: str,
    context: Path,
    dockerfile: Path,
    parent: pulumi.Resource,
    args: dict[str, pulumi.Input[str]] | None = None,
    depends_on: list[pulumi.Resource] | None = None,
) -> docker.Image:
    """Build `dockerfile` with `context` into the local engine under `tag`."""
    return docker.Image(
        resource_name,
        image_name=tag,
        build=docker.DockerBuildArgs(
            context=str(context),
            dockerfile=str(dockerfile),
            args=args or {},
            builder_version=docker.BuilderVersion.BUILDER_V1,
            platform="linux/amd64",
        ),
        skip_push=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )


def dist_image(resource_name: str, tag: str, artifacts: Path, parent: pulumi.Resource) -> docker.Image:
    """Pack a cached artifact folder (jars, a tarball tree, wheels) into an image to copy from."""
    if not artifacts.is_dir():
        raise FileNotFoundError(f"{artifacts} is missing: run `make setup` (scripts/setup.sh) first")
    return local_image(resource_name, tag, artifacts, DIST_DOCKERFILE, parent)


def image_ref(image: docker.Image) -> pulumi.Output[str]:
    """The built image's tag, as an Output so that consumers wait for the build."""
    return image.image_name
