"""Generated secrets, kept only in the stack's state, where Pulumi encrypts them.

A dynamic provider rather than pulumi-random: no provider plugin to build and cache offline.
The value is made once, at create, and stays until the resource is replaced or destroyed: a new
`generation` (stack config `secretGenerations`, docs/security.md) replaces it, which is how a secret is rotated.
"""

from __future__ import annotations

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

from contract import kafka_auth, schema
from infra.dynamic import pickled_by_value


@pickled_by_value
class _PasswordProvider(ResourceProvider):
    def create(self, props):
        import secrets  # imported here: the provider runs pickled in Pulumi's provider process

        # The outputs are what the next diff compares with: they carry the generation, or a rotation could not
        # be undone (a stack test found it: going back to generation 0 changed nothing).
        return CreateResult(id_=secrets.token_hex(8),
                            outs={"length": props["length"], "generation": props.get("generation", 0),
                                  "value": secrets.token_urlsafe(int(props["length"]))})

    def diff(self, _id, olds, news):
        # A password made before generations existed is generation 0.
        replaces = [key for key in ("length", "generation") if olds.get(key, 0) != news.get(key, 0)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)


class Password(Resource):
    """A random URL-safe password of `length` bytes of entropy; `value` is a secret output. Another `generation`
    makes a new one."""

    value: pulumi.Output[str]

    def __init__(self, name: str, length: int = 24, generation: int = 0, opts: pulumi.ResourceOptions | None = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["value"]))
        super().__init__(_PasswordProvider(), name, {"length": length, "generation": generation, "value": None}, opts)


def kafka_secret(user: str) -> str:
    """The generated password's name of a Kafka principal (contract.kafka_auth)."""
    return f"kafka-{user}"


def cassandra_secret(role: str) -> str:
    """The generated password's name of a Cassandra role (contract.schema ADMIN, WRITER, READER)."""
    return f"cassandra-{role}"


#: The secrets a new generation may rotate: those whose every holder follows a change on `pulumi up`. Cassandra's
#: app roles (the schema step sets each role's password to the current secret) and Kafka's app principals (the
#: topics step sets their SCRAM credentials). Not the admins' logins, which the set-up steps log in with, nor
#: the brokers' and the Spark cluster's, which every node must change at once.
ROTATABLE = (*(cassandra_secret(role) for role in (schema.WRITER, schema.READER)),
             *(kafka_secret(user) for user in kafka_auth.APP_USERS))


def generations(config: dict | None) -> dict[str, int]:
    """The stack config's `secretGenerations` ({secret name: generation}), checked: only ROTATABLE secrets, and
    whole numbers."""
    config = config or {}
    unknown = sorted(set(config) - set(ROTATABLE))
    if unknown:
        raise ValueError(f"secretGenerations: {', '.join(unknown)} cannot be rotated by pulumi up; "
                         f"these can: {', '.join(ROTATABLE)} (docs/security.md)")
    for name, generation in config.items():
        if isinstance(generation, bool) or not isinstance(generation, int):
            raise ValueError(f"secretGenerations: {name} must be a whole number, got {generation!r}")
    return dict(config)
