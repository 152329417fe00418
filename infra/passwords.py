"""Generated secrets, kept only in the stack's state, where Pulumi encrypts them.

A dynamic provider rather than pulumi-random: no provider plugin to build and cache offline.
The value is made once, at create, and stays until the resource is replaced or destroyed.
"""

from __future__ import annotations

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

from infra.dynamic import pickled_by_value


@pickled_by_value
class _PasswordProvider(ResourceProvider):
    def create(self, props):
        import secrets  # imported here: the provider runs pickled in Pulumi's provider process

        return CreateResult(id_=secrets.token_hex(8),
                            outs={"length": props["length"], "value": secrets.token_urlsafe(int(props["length"]))})

    def diff(self, _id, olds, news):
        changed = olds.get("length") != news.get("length")
        return DiffResult(changes=changed, replaces=["length"] if changed else [], delete_before_replace=False)


class Password(Resource):
    """A random URL-safe password of `length` bytes of entropy; `value` is a secret output."""

    value: pulumi.Output[str]

    def __init__(self, name: str, length: int = 24, opts: pulumi.ResourceOptions | None = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["value"]))
        super().__init__(_PasswordProvider(), name, {"length": length, "value": None}, opts)
