"""Drive a stack from the Makefile and the tests: up, down, load a file and wait, print the URL.

    python -m devstack.stack up --stack dev
    python -m devstack.stack load --stack dev --file clickstream-enwiki-2024-11.tsv --wait

A failure ends in one `error:` line on stderr and a non-zero exit: 2 for a usage error, the producer's
own code when `load`'s producer fails (it has said why), 28 (ENOSPC) when `load` finds that the stack's
disk would not hold the month (devstack.disk; `--skip-disk-check` skips the check), 1 otherwise. The
functions raise SystemExit with a message for the failures they expect, so the tests that call them see
the same sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contract import crashlog, kafka_auth
from contract.settings import ENV
from contract.status import FINISHED, LoadStatus
from infra.membership import TEARDOWN_ENV
from infra.naming import STACK_LABEL, Naming
from devstack import disk, loads, pulumi_locks
from devstack.progress import Stalled

ROOT = Path(__file__).resolve().parent.parent
#: The Pulumi project (Pulumi.yaml `name`): the first word of every Docker name of a stack.
PROJECT = "clickstream"


def pulumi(*args: str, stack: str, capture: bool = False, env: dict[str, str] | None = None) -> str:
    """Run the pulumi CLI in the project root (with `env` added to its environment); raise with its output on
    failure."""
    cmd = ["pulumi", *args, "--stack", stack, "--non-interactive"]
    result = _run(cmd, capture=capture, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        detail = (result.stderr or "")[-4000:] if capture else ""
        raise SystemExit(f"`{' '.join(cmd)}` failed with exit {result.returncode}\n{detail}")
    return result.stdout if capture else ""


def select(stack: str) -> None:
    """Make `stack` current, creating it if new, and free it of locks left by killed runs on this host."""
    cmd = ["pulumi", "stack", "select", "--create", stack, "--non-interactive"]
    result = _run(cmd, capture=True)
    if result.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed with exit {result.returncode}\n{result.stderr[-4000:]}")
    for line in pulumi_locks.release_stale(stack):
        print(line, file=sys.stderr)


def _run(cmd: list[str], capture: bool, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=ROOT, text=True, capture_output=capture, env=env)
    except FileNotFoundError:
        raise SystemExit(f"{cmd[0]} is not installed here: run `make setup`, or `. toolchain/env.sh`") from None


def up(stack: str, config_file: Path | None = None) -> dict:
    """`pulumi up`; with `config_file`, that stack config instead of Pulumi.<stack>.yaml (a resize, say)."""
    select(stack)
    started = time.monotonic()
    pulumi("up", "--yes", "--skip-preview", "--suppress-progress",
           *(["--config-file", str(config_file)] if config_file else []), stack=stack)
    print(f"stack {stack} is up and healthy after {time.monotonic() - started:.0f} s", file=sys.stderr)
    return outputs(stack)


def down(stack: str) -> None:
    select(stack)
    # The whole stack goes: no point draining brokers or decommissioning nodes one by one first.
    pulumi("destroy", "--yes", "--skip-preview", "--suppress-progress", stack=stack, env={TEARDOWN_ENV: "1"})


def outputs(stack: str) -> dict:
    return json.loads(pulumi("stack", "output", "--json", "--show-secrets", stack=stack, capture=True))


def cassandra_settings(outputs: dict):
    """Settings that reach the stack's Cassandra from the host, through the published CQL port."""
    from contract.settings import Settings

    host, port = outputs["cassandraAdmin"].rsplit(":", 1)
    return Settings(cassandra_hosts=host, cassandra_port=int(port))


def cassandra(outputs: dict, role: str, keyspace: str | None = None):
    """A cassandra-driver session from the host as one of the stack's roles."""
    from contract.db import connect

    login = outputs["cassandraCredentials"][role]
    return connect(cassandra_settings(outputs), keyspace, credentials=(login["user"], login["password"]))


def kafka_login(outputs: dict, user: str) -> tuple[str, str] | None:
    """(user, password) of one of the stack's Kafka principals; None for a stack whose Kafka takes no logins."""
    login = outputs.get("kafkaCredentials", {}).get(user)
    return (login["user"], login["password"]) if login else None


def kafka(outputs: dict, user: str = kafka_auth.ADMIN) -> dict:
    """kafka-python settings reaching the stack's Kafka from the host, logged in as `user`."""
    return kafka_auth.python_client_config(outputs["kafkaBootstrap"], kafka_login(outputs, user))


def kafka_env_in(folder: Path, outputs: dict, user: str = kafka_auth.PRODUCER) -> dict[str, str]:
    """Environment variables for a host process (the producer CLI, Locust) logging in to the stack's Kafka as
    `user`, with the password in a file (mode 0600) in `folder`: never on a command line."""
    env = {ENV["kafka_bootstrap"]: outputs["kafkaBootstrap"]}
    login = kafka_login(outputs, user)
    if login is None:
        return env
    path = folder / f"kafka-{user}"
    path.touch(mode=0o600)
    path.write_text(login[1], encoding="utf-8")
    return env | {ENV["kafka_user"]: login[0], ENV["kafka_password_file"]: str(path)}


@contextmanager
def kafka_env(outputs: dict, user: str = kafka_auth.PRODUCER) -> Iterator[dict[str, str]]:
    """`kafka_env_in` a private temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="clickstream-kafka-") as folder:  # mode 0700
        yield kafka_env_in(Path(folder), outputs, user)


def config(stack: str) -> dict:
    """The project's and the stack's `clickstream:` settings, merged, without the prefix."""
    import yaml

    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text()).get("config", {})
    values = {k: (v.get("default") if isinstance(v, dict) and "default" in v else v) for k, v in project.items()}
    values |= yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()).get("config", {})
    return {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("clickstream:")}


def leftovers(stack: str, engine: str | None = None) -> dict[str, list[str]]:
    """Docker containers, networks and volumes that carry this stack's label, on `engine` (a docker -H URL)
    or the default engine."""
    docker = ["docker", *(["-H", engine] if engine else [])]
    found = {}
    for kind in ("container", "network", "volume"):
        cmd = [*docker, kind, "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"]
        if kind == "container":
            cmd.insert(len(docker) + 2, "-a")
        found[kind] = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return found


def remove_leftovers(stack: str, engine: str | None = None) -> None:
    """Force-remove anything of this stack that an interrupted run left outside Pulumi's state."""
    docker = ["docker", *(["-H", engine] if engine else [])]
    for kind, ids in leftovers(stack, engine).items():
        if ids:
            rm = [*docker, kind, "rm"] + (["-f", "-v"] if kind == "container" else []) + ids
            subprocess.run(rm, check=False, capture_output=True)


def probe(stack: str, out: dict, lang: str, month: str, run: str | None = None) -> loads.LoadProbe:
    """Where a load of this stack stands: its ingestion row, RAW's offsets and the Spark driver's tasks."""
    return loads.LoadProbe(out["webUrl"], lang, month, run, kafka=kafka(out) if "kafkaBootstrap" in out else None,
                           driver_ui=loads.driver_ui(Naming(PROJECT, stack).resource("streaming")))


def wait_for_load(stack: str, out: dict, lang: str, month: str, run: str,
                  stall_seconds: float | None = None) -> dict:
    """Poll the stack until this run of the load is complete or failed; SystemExit, saying where the load
    stood, once nothing about it has moved for `stall_seconds` (devstack.progress.STALL_SECONDS)."""
    try:
        state = loads.wait_for(probe(stack, out, lang, month, run), lambda s: s.status in FINISHED,
                               "load not complete", stall_seconds=stall_seconds)
    except Stalled as err:
        raise SystemExit(str(err)) from None
    return state.load


def produce(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run the producer CLI (with `env` added to its environment), its output on this terminal; return its exit
    code."""
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}).returncode


def check_disk(stack: str, file: Path) -> None:
    """Refuse, before anything is sent, a file whose month the stack's disk would not hold: one `error:`
    line and exit EXIT_NO_SPACE. When it cannot tell (no Docker answer, an unreadable file), it says so
    and lets the load go on: the producer reports a bad file itself."""
    if not file.is_file():
        return
    try:
        settings = config(stack)
        # Every replica is a full copy of the month; with as many brokers (nodes) as replicas, as on the
        # dev stack, each broker (node) holds one.
        replicas = settings["kafka"]["replicationFactor"], settings["cassandra"]["replicationFactor"]
        problem = disk.shortfall(file, *replicas, free=disk.free_bytes(disk.docker_root()))
    except (OSError, KeyError, subprocess.SubprocessError) as err:
        print(f"warning: disk check skipped ({type(err).__name__}: {err})", file=sys.stderr)
        return
    if problem:
        _say_error(problem)
        raise SystemExit(disk.EXIT_NO_SPACE)


def load(stack: str, file: Path, lang: str | None, month: str | None, wait: bool,
         stall_seconds: float | None = None, check_space: bool = True) -> None:
    from producer.files import DumpError, name_of

    try:
        name = name_of(file, lang, month)
    except DumpError as err:
        _say_error(str(err))
        raise SystemExit(2) from None  # a usage error, as the producer counts it
    if check_space:
        check_disk(stack, file)
    out = outputs(stack)
    run = uuid.uuid4().hex
    cmd = [sys.executable, "-m", "producer", "load", str(file), "--lang", name.lang, "--month", name.month,
           "--run-id", run]
    with kafka_env(out) as env:
        code = produce(cmd, env)
    if code != 0:
        raise SystemExit(code)  # the producer has printed its error line; keep its code
    if wait:
        done = wait_for_load(stack, out, name.lang, name.month, run, stall_seconds)
        print(f"{name.lang} {name.month}: {done['status']}, {done['rows_accepted']:,} rows", file=sys.stderr)
        if done["status"] != LoadStatus.COMPLETE:
            raise SystemExit(f"load failed: {done.get('error')}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse prints the usage and the message on two lines; here it is one line, exit 2.
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """`python -m devstack.stack`: run a command and exit with its code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run a command; a failure ends in one `error:` line on stderr and a non-zero code, never a traceback."""
    parser = _Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "load", "url", "outputs"])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--lang")
    parser.add_argument("--month")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--skip-disk-check", action="store_true",
                        help="load even if the stack's disk looks too small for the month")
    try:
        args = parser.parse_args(argv)
        if args.command == "load" and args.file is None:
            parser.error("load needs --file")
        _command(args)
    except SystemExit as stop:
        if isinstance(stop.code, str):
            _say_error(stop.code)
            return 1
        return stop.code or 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the last resort: a trace file, not a traceback
        print(f"error: {crashlog.describe(err, 'stack')}", file=sys.stderr)
        return 1
    return 0


def _say_error(message: str) -> None:
    # A message's first line says what failed; the rest (a command's own output) goes before it, so
    # the last line on the terminal is the one `error:` line.
    headline, _, detail = message.strip().partition("\n")
    if detail.strip():
        print(detail.rstrip(), file=sys.stderr)
    print(f"error: {headline}", file=sys.stderr)


def _command(args: argparse.Namespace) -> None:
    if args.command == "up":
        up(args.stack)
    elif args.command == "down":
        down(args.stack)
    elif args.command == "load":
        load(args.stack, args.file, args.lang, args.month, args.wait, check_space=not args.skip_disk_check)
    elif args.command == "outputs":
        print(json.dumps(outputs(args.stack), indent=2))
    else:
        print(f"Dashboard: {outputs(args.stack)['webUrl']}")


if __name__ == "__main__":
    main()
