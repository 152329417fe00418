"""Locks left by killed Pulumi runs are released; live ones and other hosts' never (devstack.pulumi_locks)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timezone

from devstack import pulumi_locks

TAKEN = "2026-12-07T14:51:39.729269942Z"
TAKEN_S = datetime(2026, 12, 7, 14, 51, 39, 729269, tzinfo=timezone.utc).timestamp()


def lock(pid=4242, hostname="vm", timestamp=TAKEN):
    return {"pid": pid, "username": "root", "hostname": hostname, "timestamp": timestamp}


def test_a_lock_whose_process_is_gone_is_stale():
    assert pulumi_locks.is_stale(lock(), "vm", started_at=lambda pid: None)


def test_a_lock_whose_pid_now_belongs_to_a_newer_process_is_stale():
    assert pulumi_locks.is_stale(lock(), "vm", started_at=lambda pid: TAKEN_S + 3600)


def test_a_lock_held_by_its_running_owner_is_kept():
    assert not pulumi_locks.is_stale(lock(), "vm", started_at=lambda pid: TAKEN_S - 2)


def test_a_lock_taken_on_another_host_is_kept_whatever_runs_here():
    assert not pulumi_locks.is_stale(lock(hostname="elsewhere"), "vm", started_at=lambda pid: None)


def test_only_the_file_backend_has_locks_we_judge():
    assert pulumi_locks.state_dir("file:///root/.cache/state") == pulumi_locks.Path("/root/.cache/state")
    assert pulumi_locks.state_dir("s3://bucket/state") is None
    assert pulumi_locks.state_dir("") is None


def test_this_process_start_time_is_read_from_proc():
    started = pulumi_locks.process_started_at(os.getpid())
    assert started is not None
    assert abs(started - datetime.now(timezone.utc).timestamp()) < 24 * 3600


def write_lock(state, stack, name, body):
    folder = state / ".pulumi" / "locks" / "organization" / "clickstream" / stack
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(body))
    (folder / f"{name}.json.attrs").write_text("{}")
    return path


def test_release_removes_the_dead_lock_and_its_metadata_and_keeps_the_live_one(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = datetime.now(timezone.utc).isoformat()
    host = socket.gethostname()
    stale = write_lock(tmp_path, "dev", "a", lock(pid=dead.pid, hostname=host, timestamp=now))
    live = write_lock(tmp_path, "dev", "b", lock(pid=os.getpid(), hostname=host, timestamp=now))
    other_stack = write_lock(tmp_path, "ci", "c", lock(pid=dead.pid, hostname=host, timestamp=now))

    released = pulumi_locks.release_stale("dev", backend_url=f"file://{tmp_path}")

    assert released == [f"released a stale Pulumi lock on dev: pid {dead.pid} took it at {now} "
                        "and is no longer running"]
    assert not stale.exists() and not stale.with_name("a.json.attrs").exists()
    assert live.exists() and other_stack.exists()
