"""Apache's own `cassandra-stress`, writing rows shaped like the sink's to the stack's Cassandra.

    python -m bench.cassandra_stress [--rows 200000] [--threads 64] [--stack dev]

Cassandra 5's binary tarball is not on Maven Central; the newest `apache-cassandra` `bin` tarball
there is 4.0-alpha2, whose `tools/bin/cassandra-stress` speaks the native protocol v4 that
Cassandra 5 still serves. It is fetched once (SHA-1 checked against Maven's) into the cache.

The table is `edges_in` exactly as the contract defines it, in a keyspace of its own (`<keyspace>_stress`)
with the stack's replication, written at LOCAL_QUORUM; column sizes follow the synthetic month
(titles ~10 characters), one row per partition, as the sink writes them. Printed: one JSON object
with writes/s and latency percentiles. The stress keyspace is dropped afterwards.

The tool takes its login only as arguments, which any local user can read in `ps`. So it never logs in as
one of the stack's roles: the keyspace and table are created here as admin, and the tool gets a role made
for the run (a generated password, allowed only to read and write the stress keyspace), dropped after it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import secrets
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from cassandra.cluster import NoHostAvailable

from contract.db import connect
from contract.schema import ADMIN, CREATE_ROLE, DROP_ROLE, GRANT, KEYSPACE, ROLE_PERMISSIONS, TABLES, WRITER
from contract.settings import Settings
from devstack import stack as stack_tool
from bench.producer import CACHE

VERSION = "4.0-alpha2"
TARBALL = (f"https://repo1.maven.org/maven2/org/apache/cassandra/apache-cassandra/{VERSION}/"
           f"apache-cassandra-{VERSION}-bin.tar.gz")
HOME = CACHE / "artifacts" / f"cassandra-stress-{VERSION}"
TABLE = "edges_in"
#: Sizes of the synthetic month's columns (`producer generate`): lang, month, titles of ~10 characters.
COLUMNS = [
    {"name": "lang", "size": "fixed(2)"},
    {"name": "month", "size": "fixed(7)"},
    {"name": "curr", "size": "uniform(4..16)", "population": "uniform(1..1000000000)"},
    {"name": "prev", "size": "uniform(4..16)", "cluster": "fixed(1)"},
    {"name": "n", "cluster": "fixed(1)"},
    {"name": "type", "size": "uniform(4..8)"},
]


def installed() -> Path:
    """`cassandra-stress` from the cached tarball, fetched and checked on first use."""
    launcher = HOME / f"apache-cassandra-{VERSION}" / "tools" / "bin" / "cassandra-stress"
    if launcher.exists():
        return launcher
    HOME.mkdir(parents=True, exist_ok=True)
    archive = HOME / "bin.tar.gz"
    print(f"fetching cassandra-stress ({TARBALL})", flush=True)
    urllib.request.urlretrieve(TARBALL, archive)
    with urllib.request.urlopen(TARBALL + ".sha1", timeout=30) as r:
        expected = r.read().decode().split()[0]
    if hashlib.sha1(archive.read_bytes()).hexdigest() != expected:
        archive.unlink()
        raise SystemExit(f"{TARBALL}: SHA-1 differs from Maven Central's")
    with tarfile.open(archive) as tar:
        tar.extractall(HOME, filter="tar")
    archive.unlink()
    return launcher


def profile(keyspace: str, datacenter: str, replication: int) -> dict:
    """A `user` profile whose keyspace and table are the contract's, renamed."""
    params = {"keyspace": keyspace, "datacenter": datacenter, "replication": replication}
    return {
        "keyspace": keyspace, "keyspace_definition": KEYSPACE.format(**params).strip(),
        "table": TABLE, "table_definition": TABLES[TABLE].format(**params).strip(),
        "columnspec": COLUMNS,
        "insert": {"partitions": "fixed(1)", "select": "fixed(1)/1", "batchtype": "UNLOGGED"},
        "queries": {},
    }


def tool_profile(spec: dict) -> dict:
    """The profile as the tool reads it: without definitions it runs nothing but the profile's inserts, so its
    login needs no right to create keyspaces (it would run the definition even with the keyspace there)."""
    return {k: v for k, v in spec.items() if k not in ("keyspace_definition", "table_definition")}


@contextlib.contextmanager
def run_login(session, out: dict, keyspace: str, attempts: int = 30):
    """(user, password) of a role that exists only inside the `with`: the writer's rights on `keyspace`, no
    others. Yields once the role can log in (a new role reaches every node's auth cache within seconds)."""
    role, password = f"{keyspace}_run_{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    session.execute(CREATE_ROLE.format(role=role, superuser="false"), (password,), timeout=120)
    try:
        for permission in ROLE_PERMISSIONS[WRITER]:
            session.execute(GRANT.format(permission=permission, keyspace=keyspace, role=role), timeout=120)
        for attempt in range(attempts):
            try:
                connect(stack_tool.cassandra_settings(out), keyspace, credentials=(role, password)).cluster.shutdown()
                break
            except NoHostAvailable:  # how the driver reports a refused login too
                if attempt == attempts - 1:
                    raise
                time.sleep(1)
        yield role, password
    finally:
        session.execute(DROP_ROLE.format(role=role), timeout=120)


def summary(output: str) -> dict:
    """The figures of cassandra-stress's final `Results:` block."""
    results = output[output.rindex("Results:"):]

    def figure(label: str) -> float:
        return float(re.search(rf"^{label}\s*:\s*([\d,.]+)", results, re.M).group(1).replace(",", ""))

    return {"writes_per_second": figure("Op rate"), "p50_ms": figure("Latency median"),
            "p99_ms": figure("Latency 99th percentile"), "errors": figure("Total errors")}


def first_error(output: str) -> str:
    """The line that names the exception, not the stack frames under it (which fill any tail)."""
    for line in output.splitlines():
        if re.search(r"(Exception|Error)\b", line) and not line.lstrip().startswith("at "):
            return line.strip()
    return "no exception in its output"


def run(stack: str, rows: int, threads: int) -> dict:
    launcher = installed()
    settings, out = stack_tool.config(stack), stack_tool.outputs(stack)
    keyspace = f"{Settings().keyspace}_stress"
    host, port = out["cassandraAdmin"].rsplit(":", 1)
    cassandra = settings["cassandra"]
    spec_profile = profile(keyspace, cassandra["datacenter"], cassandra["replicationFactor"])
    session = stack_tool.cassandra(out, ADMIN)
    try:
        # Created here, not only by the tool: it sleeps 1 s for schema propagation, and on a loaded
        # ring a node may not know the keyspace yet when the tool prepares. Here we wait for agreement.
        session.execute(spec_profile["keyspace_definition"], timeout=120)
        session.execute(spec_profile["table_definition"], timeout=120)
        session.cluster.refresh_schema_metadata(max_schema_agreement_wait=120)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as spec, run_login(session, out, keyspace) as login:
            yaml.safe_dump(tool_profile(spec_profile), spec)
            spec.flush()
            done = subprocess.run(
                [str(launcher), "user", f"profile={spec.name}", "ops(insert=1)", f"n={rows}", "cl=LOCAL_QUORUM",
                 "no-warmup", "-mode", "native", "cql3", f"user={login[0]}", f"password={login[1]}",
                 "-node", host, "-port", f"native={port}", "-rate", f"threads={threads}", "-errors", "ignore"],
                capture_output=True, text=True)
    finally:  # an interrupted run leaves no stress keyspace behind on the stack
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        session.cluster.shutdown()
    if done.returncode != 0 or "Results:" not in done.stdout:
        log = CACHE / "bench" / f"cassandra-stress-{time.strftime('%Y%m%d-%H%M%S')}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"{done.stdout}\n--- stderr ---\n{done.stderr}")
        raise SystemExit(f"cassandra-stress failed (exit {done.returncode}): "
                         f"{first_error(done.stdout + done.stderr)}\nfull output: {log}")
    return {"rows": rows, "threads": threads} | summary(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    print(json.dumps(run(args.stack, args.rows, args.threads), indent=2))


if __name__ == "__main__":
    main()
