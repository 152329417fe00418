"""Pure steps of scaling: Kafka reassignment plans, tool output parsing, and the commands to run.

The membership providers (infra/membership.py) call these from Pulumi's provider process, which
cannot import this repository: every function here is pickled by value with the provider, so each
imports what it needs in its own body and calls only functions of this module.
"""

from __future__ import annotations

from infra.dynamic import pickled_by_value

Assignment = dict[tuple[str, int], list[int]]  # (topic, partition) -> broker ids, preferred leader first


@pickled_by_value
def parse_partitions(describe: str) -> Assignment:
    """The replica lists in `kafka-topics --describe` output."""
    import re

    pattern = r"Topic:\s*(\S+)\s+Partition:\s*(\d+)\s+Leader:\s*\S+\s+Replicas:\s*(\d[\d,]*)"
    return {(m.group(1), int(m.group(2))): [int(b) for b in m.group(3).split(",")]
            for m in re.finditer(pattern, describe)}


@pickled_by_value
def spread_plan(current: Assignment, brokers: list[int]) -> Assignment:
    """New replica lists that spread `current` evenly over `brokers`, moving as few replicas as possible.

    Replica counts per broker end up within one of each other (where replication factors allow), and
    each partition keeps its replication factor. Leaders are then spread the same way. Only the
    partitions that change are returned: the plan handed to kafka-reassign-partitions.
    """
    targets = sorted(set(brokers))
    if not targets:
        raise ValueError("no brokers to spread partitions over")
    factor = {p: min(len(replicas), len(targets)) for p, replicas in current.items()}
    keep = {p: [b for b in dict.fromkeys(replicas) if b in targets][:factor[p]] for p, replicas in current.items()}
    load = {b: sum(b in replicas for replicas in keep.values()) for b in targets}
    for p in sorted(keep):  # replicas lost with brokers outside `brokers` go to the least loaded
        while len(keep[p]) < factor[p]:
            b = min((b for b in targets if b not in keep[p]), key=lambda b: (load[b], b))
            keep[p].append(b)
            load[b] += 1
    # One replica at a time from a more to a less loaded broker (a follower if possible, so that a
    # leader moves only when it must): each move narrows the gap, until no move would.
    while move := _first_move(keep, load, lambda p, hi, lo: hi in keep[p] and lo not in keep[p],
                              lambda p, hi: (keep[p][0] == hi, p)):
        p, hi, lo = move
        keep[p][keep[p].index(hi)] = lo
    _spread_leaders(keep, targets)
    return {p: replicas for p, replicas in sorted(keep.items()) if replicas != current[p]}


@pickled_by_value
def _spread_leaders(assignment: Assignment, brokers: list[int]) -> None:
    """Reorder replica lists in place so that brokers lead within one partition of each other where they can."""
    leads = {b: sum(replicas[0] == b for replicas in assignment.values()) for b in brokers}
    while move := _first_move(assignment, leads, lambda p, hi, lo: assignment[p][0] == hi and lo in assignment[p],
                              lambda p, hi: p):
        p, hi, lo = move
        assignment[p].remove(lo)
        assignment[p].insert(0, lo)


@pickled_by_value
def _first_move(assignment: Assignment, counts: dict[int, int], allowed, preference):
    """(partition, from, to) for the first allowed move between brokers whose counts differ by 2 or more,
    most loaded first; the counts are updated. None when no such move exists."""
    for hi in sorted(counts, key=lambda b: (-counts[b], b)):
        for lo in sorted(counts, key=lambda b: (counts[b], b)):
            if counts[hi] - counts[lo] < 2:
                break
            candidates = sorted((p for p in assignment if allowed(p, hi, lo)), key=lambda p: preference(p, hi))
            if candidates:
                counts[hi] -= 1
                counts[lo] += 1
                return candidates[0], hi, lo
    return None


@pickled_by_value
def drain_plan(current: Assignment, leaving: int, remaining: list[int]) -> Assignment:
    """New replica lists with every replica on broker `leaving` moved to the least loaded of `remaining`."""
    targets = sorted(set(remaining) - {leaving})
    load = {b: sum(b in replicas for replicas in current.values()) for b in targets}
    plan = {}
    for p in sorted(current):
        replicas = current[p]
        if leaving not in replicas:
            continue
        free = [b for b in targets if b not in replicas]
        if not free:
            raise ValueError(f"{p[0]}-{p[1]} has {len(replicas)} replicas: no broker left to take broker "
                             f"{leaving}'s one among {targets}")
        b = min(free, key=lambda b: (load[b], b))
        load[b] += 1
        plan[p] = [b if r == leaving else r for r in replicas]
    return plan


@pickled_by_value
def plan_json(plan: Assignment) -> str:
    """A plan in kafka-reassign-partitions' --reassignment-json-file format."""
    import json

    return json.dumps({"version": 1, "partitions": [
        {"topic": topic, "partition": partition, "replicas": replicas}
        for (topic, partition), replicas in sorted(plan.items())]})


@pickled_by_value
def reassignment_finished(verify: str) -> bool:
    """Whether `kafka-reassign-partitions --verify` reports every move done; raises if one went wrong."""
    wrong = [line for line in verify.splitlines() if "but replica set is" in line or " failed" in line]
    if wrong:
        raise RuntimeError("partition reassignment went wrong:\n" + "\n".join(wrong))
    return "still in progress" not in verify


@pickled_by_value
def docker(docker_host: str, *args: str) -> list[str]:
    """The docker CLI aimed at one engine ("" for the default one: DOCKER_HOST, else the local socket)."""
    return ["docker", *(["-H", docker_host] if docker_host else []), *args]


@pickled_by_value
def docker_exec(docker_host: str, container: str, *command: str, stdin: bool = False) -> list[str]:
    """`docker exec` on the engine that runs `container`."""
    return docker(docker_host, "exec", *(["-i"] if stdin else []), container, *command)


@pickled_by_value
def reassign(bootstrap: str, plan_file: str, mode: str, config: str | None = None) -> list[str]:
    """kafka-reassign-partitions in `mode` (execute or verify) for the plan in `plan_file`, logged in with the
    client properties file `config` if there is one."""
    return ["kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--reassignment-json-file", plan_file,
            f"--{mode}", *login("--command-config", config)]


@pickled_by_value
def login(flag: str, config: str | None) -> list[str]:
    """A Kafka tool's option naming its client properties file (the flag's name varies by tool), or none."""
    return [flag, config] if config else []
