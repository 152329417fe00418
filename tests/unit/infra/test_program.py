"""The whole Pulumi program under mocks, with a stack file's config: what a config generates, without Docker."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import VERSIONS

ROOT = Path(__file__).resolve().parents[3]
# Runs in its own process: the program reads config and registers resources at import.
RUN = """
import json, runpy, sys
import pulumi
config, seen = json.loads(sys.argv[1]), []

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        kept = ({k: args.inputs.get(k) for k in ("envs", "ports")} if args.typ.endswith("container:Container") else
                {"generation": args.inputs.get("generation")} if args.typ.startswith("pulumi-python:dynamic") else {})
        seen.append([args.typ, args.name, args.provider or "", kept])
        return f"{args.name}-id", dict(args.inputs) | ({"repoDigest": "sha256:" + args.name}
                                                        if args.typ == "docker:index/image:Image" else {})
    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="clickstream", stack="dev", preview=False)
for key, value in config.items():
    pulumi.runtime.set_config(key, value if isinstance(value, str) else json.dumps(value))
pulumi.runtime.test(lambda: runpy.run_path("infra/__main__.py", run_name="__main__"))()
print(json.dumps(seen))
"""


def _run(tmp_path: Path, stack_file: str, **changes) -> subprocess.CompletedProcess:
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    config |= yaml.safe_load((ROOT / stack_file).read_text())["config"]
    for key, value in changes.items():
        config[f"clickstream:{key}"] = value
    v = VERSIONS
    for folder in ("wheels/current", f"artifacts/kafka-{v['kafkaVersion']}",
                   f"artifacts/cassandra-{v['cassandraVersion']}",
                   f"artifacts/spark-connectors-{v['sparkVersion']}-scc{v['sparkCassandraConnectorVersion']}",
                   "artifacts/bulkload/current"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-c", RUN, json.dumps(config)], cwd=ROOT, text=True,
                          capture_output=True, env={"CLICKSTREAM_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"})


def _resources(tmp_path: Path, stack_file: str, **changes) -> list[list[str]]:
    result = _run(tmp_path, stack_file, **changes)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_the_dev_stack_stays_on_the_default_engine_with_no_membership(tmp_path: Path):
    resources = _resources(tmp_path, "Pulumi.dev.yaml")
    assert not [r for r in resources if r[0] == "pulumi:providers:docker" or r[2]]
    assert not [r for r in resources if r[1].endswith("-membership")]
    assert sorted(r[1] for r in resources if r[0] == "docker:index/container:Container"
                  and r[1].startswith(("kafka-", "cassandra-"))) == [
        "cassandra-0", "cassandra-1", "cassandra-2", "kafka-0", "kafka-1", "kafka-2"]


def test_two_hosts_in_config_make_two_providers_and_place_every_member_on_one(tmp_path: Path):
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    resources = _resources(
        tmp_path, "Pulumi.dev.yaml",
        kafka=dev["clickstream:kafka"] | {"brokers": 4},
        hosts=[{"name": "a", "url": "unix:///var/run/docker.sock", "address": "10.9.0.1"},
               {"name": "b", "url": "ssh://ops@10.9.0.2", "address": "10.9.0.2"}],
        hostPorts={"kafka": 19092, "kafkaController": 19192, "cassandraStorage": 17000, "cassandraCql": 19042,
                   "cassandraJmx": 17199, "sparkWorkerUi": 18081})
    assert sorted(r[1] for r in resources if r[0] == "pulumi:providers:docker") == ["docker-a", "docker-b"]
    docker_resources = [r for r in resources if r[0].startswith("docker:index/")]
    assert all("::docker-a::" in r[2] or "::docker-b::" in r[2] for r in docker_resources)
    assert [r[1] for r in resources if r[1].endswith("-membership")] == ["kafka-3-membership"]


def test_each_stack_publishes_its_web_ui_port_through_the_front_server_on_the_first_host(tmp_path: Path):
    for stack_file in ("Pulumi.dev.yaml", "Pulumi.mini.yaml", "Pulumi.multihost.yaml"):
        config = yaml.safe_load((ROOT / stack_file).read_text())["config"]
        containers = {r[1]: r for r in _resources(tmp_path, stack_file) if r[0] == "docker:index/container:Container"}
        front, webui = containers["apps-front"], containers["apps-webui"]
        assert [(p["internal"], p["external"], p["ip"]) for p in front[3]["ports"]] == [
            (8080, config["clickstream:webui"]["port"], "127.0.0.1")], stack_file
        assert not webui[3]["ports"], stack_file
        env = dict(e.split("=", 1) for e in front[3]["envs"])
        knobs = config["clickstream:front"]
        assert (env["FRONT_CACHE_SIZE"], env["FRONT_CONN_PER_CLIENT"], env["FRONT_CONN_TOTAL"]) == (
            knobs["cacheSize"], str(knobs["connectionsPerClient"]), str(knobs["connectionsTotal"])), stack_file
        # With several hosts, the web UI and its front server share the first host (and its stack network).
        assert front[2] == webui[2] and ("::docker-a::" in front[2]) == ("clickstream:hosts" in config), stack_file


def test_a_new_generation_in_config_rotates_that_secret_alone_and_an_admins_login_cannot_be_rotated(tmp_path: Path):
    passwords = {r[1]: r[3]["generation"] for r in _resources(tmp_path, "Pulumi.dev.yaml",
                                                               secretGenerations={"kafka-producer": 2})
                 if r[0].startswith("pulumi-python:dynamic")}
    assert passwords["kafka-producer"] == 2
    assert {name for name, generation in passwords.items() if generation} == {"kafka-producer"}
    assert {"kafka-admin", "kafka-streaming", "cassandra-writer", "spark-auth"} <= set(passwords)
    refused = _run(tmp_path, "Pulumi.dev.yaml", secretGenerations={"kafka-admin": 1})
    assert refused.returncode != 0 and "kafka-admin cannot be rotated by pulumi up" in refused.stderr
