"""A second Docker "host" on this machine, for the multi-host mode (docs/scaling.md, `clickstream:hosts`).

Host a is the default dockerd in the root network namespace, left exactly as it is. Host b is a second
dockerd in the network namespace `cs-hostb`, joined to the root namespace by a veth pair:

    root ns (host a)  cs-a 10.231.0.1/24  <-- veth -->  cs-b 10.231.0.2/24  netns cs-hostb (host b)

Daemon b has its own data root ($CLICKSTREAM_CACHE/docker-hostb, kept by `down` so its images stay
cached), exec root, pid file, managed containerd (started by dockerd b inside the namespace, so host
networking on b means the namespace) and socket unix:///run/clickstream-hostb/docker.sock. It runs in
a mount namespace of its own (a slave of the root one), so its container mounts never show up, or
linger, in the root one. Host b reaches the outside (apt in image builds) through the root namespace:
default route via 10.231.0.1, MASQUERADE, and FORWARD accepts between cs-a and the uplink only (not
into host a's Docker bridges).

    python -m devstack.hostb up       # idempotent: netns, veth, NAT, daemon b, debian:bookworm-slim on b
    python -m devstack.hostb status   # JSON
    python -m devstack.hostb cut      # cs-b down: b unreachable from a (and a from b); b still reaches itself
    python -m devstack.hostb heal     # cs-b up again, default route back, waits until a and b answer each other
    python -m devstack.hostb ping ADDR [--from b]   # one ICMP echo, from the root ns or from cs-hostb
    python -m devstack.hostb down     # stop daemon b, remove veth, netns and rules; keep the data root

Root only (ip netns, iptables). Every wait is bounded; daemon b logs to $CLICKSTREAM_CACHE/dockerd-hostb.log.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from contract.settings import cache_root

NETNS = "cs-hostb"
LINK_A, LINK_B = "cs-a", "cs-b"
SUBNET = ipaddress.ip_network("10.231.0.0/24")
ADDRESS_A, ADDRESS_B = "10.231.0.1", "10.231.0.2"
#: Daemon b's own bridge and network pools: inside 10.231.0.0/16 (free here), apart from the veth /24 and
#: from host a's 172.17+ networks, so an address in a trace says which daemon it belongs to.
BRIDGE_B = "10.231.1.1/24"
POOL_B = "base=10.231.128.0/18,size=24"
#: A route that never carries traffic while cs-a holds its connected route (metric 0); if cs-a is down
#: or gone it keeps 10.231.0.0/24 from leaking to the root namespace's default gateway.
SAFETY_METRIC = "4242"
RULE_COMMENT = "clickstream-hostb"
BASE_IMAGE = "debian:bookworm-slim"

CACHE = cache_root()
DATA_ROOT = CACHE / "docker-hostb"
LOG = CACHE / "dockerd-hostb.log"
RUN = Path("/run/clickstream-hostb")
EXEC_ROOT = RUN / "exec"
PIDFILE = RUN / "docker.pid"
CONFIG_FILE = RUN / "daemon.json"
SOCKET = RUN / "docker.sock"
URL = f"unix://{SOCKET}"
#: Where a system containerd would listen; dockerd attaches to one there instead of starting its own.
SYSTEM_CONTAINERD = Path("/run/containerd/containerd.sock")
MANAGED_CONTAINERD_PID = EXEC_ROOT / "containerd" / "containerd.pid"
MANAGED_CONTAINERD_SOCK = EXEC_ROOT / "containerd" / "containerd.sock"
#: b's containers' cgroups (cgroupfs driver): apart from host a's /docker, and how `down` finds them after a crash.
CGROUP_PARENT = "/clickstream-hostb"

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
LOAD_TIMEOUT = 300.0
HEAL_TIMEOUT = 15.0


def step(message: str) -> None:
    print(f"\033[1;34m==>\033[0m {message}", file=sys.stderr)


def die(message: str) -> None:
    raise SystemExit(f"\033[1;31merror:\033[0m {message}")


def run(*cmd: str, check: bool = True, timeout: float = 30.0, netns: bool = False,
        **kwargs) -> subprocess.CompletedProcess:
    """Run a command (in cs-hostb with `netns`), capture its output, and raise with it on failure."""
    if netns:
        cmd = ("ip", "netns", "exec", NETNS, *cmd)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        die(f"`{' '.join(cmd)}` failed with exit {result.returncode}: {(result.stderr or result.stdout).strip()}")
    return result


def ok(*cmd: str, netns: bool = False, timeout: float = 30.0) -> bool:
    return run(*cmd, check=False, netns=netns, timeout=timeout).returncode == 0


def docker_b(*args: str, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess:
    return run("docker", "-H", URL, *args, timeout=timeout, check=check)


# --- the network: namespace, veth pair, route, NAT ------------------------------------------------

def netns_exists() -> bool:
    return Path("/run/netns", NETNS).exists()


def link(name: str, netns: bool = False) -> dict | None:
    """`ip -j addr show` of one link (root ns, or cs-hostb), or None if it does not exist."""
    if netns and not netns_exists():
        return None
    result = run("ip", *(["-n", NETNS] if netns else []), "-j", "addr", "show", "dev", name, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return json.loads(result.stdout)[0]


def uplink() -> str:
    """The root namespace's interface toward its default gateway (what b's traffic leaves by)."""
    routes = json.loads(run("ip", "-j", "route", "show", "default").stdout or "[]")
    if not routes or "dev" not in routes[0]:
        die("the root network namespace has no default route: host b could not reach Debian's mirrors")
    return routes[0]["dev"]


def iptables_rules(out: str) -> list[tuple[str, list[str]]]:
    """(table, rule spec) of every rule this script owns in the root namespace."""
    tag = ["-m", "comment", "--comment", RULE_COMMENT]
    return [
        ("nat", ["POSTROUTING", "-s", str(SUBNET), "!", "-o", LINK_A, *tag, "-j", "MASQUERADE"]),
        ("filter", ["FORWARD", "-i", LINK_A, "-o", out, *tag, "-j", "ACCEPT"]),
        ("filter", ["FORWARD", "-i", out, "-o", LINK_A, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                    *tag, "-j", "ACCEPT"]),
    ]


def owned_rules() -> list[tuple[str, list[str]]]:
    """Rules carrying our comment, whatever uplink they were made for (read back from iptables -S)."""
    found = []
    for table in ("nat", "filter"):
        for line in run("iptables", "-t", table, "-S").stdout.splitlines():
            if RULE_COMMENT in line and line.startswith("-A "):
                found.append((table, shlex.split(line[3:])))
    return found


def network_up() -> None:
    if not netns_exists():
        step(f"creating network namespace {NETNS}")
        run("ip", "netns", "add", NETNS)
    run("ip", "-n", NETNS, "link", "set", "lo", "up")
    a, b = link(LINK_A), link(LINK_B, netns=True)
    if a is None or b is None:
        # A half-made pair (one end gone) cannot be repaired: remake it.
        if a is not None:
            run("ip", "link", "del", LINK_A)
        if b is not None:
            run("ip", "-n", NETNS, "link", "del", LINK_B)
        step(f"creating veth pair {LINK_A} ({ADDRESS_A}) <-> {LINK_B} ({ADDRESS_B}, in {NETNS})")
        run("ip", "link", "add", LINK_A, "type", "veth", "peer", "name", LINK_B, "netns", NETNS)
    prefix = SUBNET.prefixlen
    run("ip", "addr", "replace", f"{ADDRESS_A}/{prefix}", "dev", LINK_A)
    run("ip", "-n", NETNS, "addr", "replace", f"{ADDRESS_B}/{prefix}", "dev", LINK_B)
    run("ip", "link", "set", LINK_A, "up")
    run("ip", "-n", NETNS, "link", "set", LINK_B, "up")
    run("ip", "-n", NETNS, "route", "replace", "default", "via", ADDRESS_A, "dev", LINK_B)
    run("ip", "route", "replace", "unreachable", str(SUBNET), "metric", SAFETY_METRIC)
    # Routing b's traffic out: already 1 wherever Docker runs; set it anyway (root namespace only).
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    out = uplink()
    for table, rule in iptables_rules(out):
        if not ok("iptables", "-t", table, "-C", *rule):
            run("iptables", "-t", table, "-A", *rule)
    for table, rule in owned_rules():  # rules for an uplink that is no longer the default one
        if (table, rule) not in iptables_rules(out):
            run("iptables", "-t", table, "-D", *rule)


def network_down() -> None:
    for table, rule in owned_rules():
        run("iptables", "-t", table, "-D", *rule)
    run("ip", "route", "del", "unreachable", str(SUBNET), "metric", SAFETY_METRIC, check=False)
    if link(LINK_A) is not None:
        run("ip", "link", "del", LINK_A)  # takes cs-b with it
    if netns_exists():
        run("ip", "netns", "del", NETNS)


def cut() -> None:
    if link(LINK_B, netns=True) is None:
        die(f"{LINK_B} does not exist: run `up` first")
    run("ip", "-n", NETNS, "link", "set", LINK_B, "down")
    step(f"{LINK_B} is down: {ADDRESS_B} is cut off from {ADDRESS_A} (daemon b still answers on {SOCKET})")


def heal() -> None:
    if link(LINK_B, netns=True) is None:
        die(f"{LINK_B} does not exist: run `up` first")
    run("ip", "-n", NETNS, "link", "set", LINK_B, "up")
    run("ip", "link", "set", LINK_A, "up")
    # Taking cs-b down dropped b's default route with it.
    run("ip", "-n", NETNS, "route", "replace", "default", "via", ADDRESS_A, "dev", LINK_B)
    deadline = time.monotonic() + HEAL_TIMEOUT
    while time.monotonic() < deadline:
        if ping(ADDRESS_B) is not None and ping(ADDRESS_A, from_b=True) is not None:
            step(f"{LINK_B} is up: {ADDRESS_A} and {ADDRESS_B} answer each other")
            return
        time.sleep(0.5)
    die(f"{ADDRESS_A} and {ADDRESS_B} do not answer each other {HEAL_TIMEOUT:.0f} s after the link came back")


# --- ICMP echo, so that no ping binary is needed ----------------------------------------------------

def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp_echo(address: str, timeout: float = 1.0) -> float | None:
    """Round trip in ms of one ICMP echo to `address` from this process's namespace, or None."""
    ident, seq = os.getpid() & 0xFFFF, 1
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"clickstream-hostb"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        started = time.monotonic()
        try:
            s.sendto(packet, (address, 0))
        except OSError:
            return None  # e.g. ENETUNREACH: no route at all
        deadline = started + timeout
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                data, (source, _) = s.recvfrom(1024)
            except (socket.timeout, OSError):
                return None
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if source == address and kind == 0 and rid == ident and rseq == seq:
                return (time.monotonic() - started) * 1000
    return None


def ping(address: str, from_b: bool = False, timeout: float = 1.0) -> float | None:
    if not from_b:
        return icmp_echo(address, timeout)
    if not netns_exists():
        return None
    # As a module from the repository root, so its imports resolve whatever the environment.
    result = run(sys.executable, "-m", "devstack.hostb", "ping", address, "--timeout", str(timeout),
                 netns=True, check=False, timeout=timeout + 10, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(result.stdout)["rtt_ms"] if result.returncode == 0 else None


# --- daemon b -------------------------------------------------------------------------------------

def _pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (a child of this very process) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def daemon_pid() -> int | None:
    """dockerd b's pid, only if that pid really is a dockerd (a stale pid file may name another process)."""
    pid = _pid(PIDFILE)
    if pid is None:
        return None
    try:
        return pid if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd" else None
    except OSError:
        return None


def answering() -> bool:
    return ok("docker", "-H", URL, "info", "--format", "{{.ID}}", timeout=10)


def daemon_up() -> None:
    if daemon_pid() is not None and answering():
        step(f"daemon b already running (pid {daemon_pid()}, {URL})")
        return
    if daemon_pid() is not None:
        die(f"dockerd b (pid {daemon_pid()}) runs but does not answer on {URL}; see {LOG}, or `down` first")
    if SYSTEM_CONTAINERD.exists():
        # dockerd would attach to it rather than start its own, and that containerd (not in cs-hostb)
        # would start b's containers in the root namespace: host networking on b would be host a's.
        die(f"{SYSTEM_CONTAINERD} exists: dockerd b would share that containerd; this harness needs "
            "dockerd to start its own (the default daemon here runs a managed one under /var/run/docker)")
    for d in (DATA_ROOT, EXEC_ROOT, LOG.parent):
        d.mkdir(parents=True, exist_ok=True)
    # A killed daemon leaves its socket and pid file; dockerd refuses to start over a pid file whose pid
    # (reused since) is alive.
    SOCKET.unlink(missing_ok=True)
    PIDFILE.unlink(missing_ok=True)
    # Its own config file, so that an /etc/docker/daemon.json meant for host a never applies to b; and its
    # own identity key (a config-file-only setting in Docker 20.10): with host a's /etc/docker/key.json
    # both daemons would report the same ID.
    CONFIG_FILE.write_text(json.dumps({"deprecated-key-path": str(DATA_ROOT / "key.json")}, indent=2) + "\n")
    cmd = [
        "nsenter", f"--net=/run/netns/{NETNS}",
        "unshare", "--mount", "--propagation", "slave",
        "dockerd",
        "--host", URL,
        "--data-root", str(DATA_ROOT),
        "--exec-root", str(EXEC_ROOT),
        "--pidfile", str(PIDFILE),
        "--config-file", str(CONFIG_FILE),
        "--bip", BRIDGE_B,
        "--default-address-pool", POOL_B,
        "--cgroup-parent", CGROUP_PARENT,
    ]
    step(f"starting dockerd b in {NETNS} (log: {LOG})")
    started = time.monotonic()
    with open(LOG, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(cmd)}\n".encode())
        log.flush()
        # A session of its own: daemon b outlives the shell (and this script) that started it.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"dockerd b exited with {proc.returncode}; last lines of {LOG}:\n{_tail(LOG)}")
        if SOCKET.exists() and answering():
            step(f"daemon b is up (pid {proc.pid}) after {time.monotonic() - started:.1f} s")
            return
        time.sleep(0.5)
    die(f"dockerd b (pid {proc.pid}) did not answer on {URL} within {START_TIMEOUT:.0f} s (`down` stops it); "
        f"last lines of {LOG}:\n{_tail(LOG)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.25)
    return not _alive(pid)


def _own_shims() -> list[int]:
    """containerd shims of daemon b's containerd (their command line names its socket), by pid."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(MANAGED_CONTAINERD_SOCK).encode() in argv:
            pids.append(int(proc.name))
    return pids


def _own_container_pids() -> list[int]:
    """Processes of daemon b's containers: everything under its cgroup parent, in any hierarchy."""
    pids: set[int] = set()
    root = Path("/sys/fs/cgroup")
    for hierarchy in [root, *(d for d in root.iterdir() if d.is_dir())] if root.is_dir() else []:
        parent = hierarchy / CGROUP_PARENT.strip("/")
        if parent.is_dir():
            for procs in parent.rglob("cgroup.procs"):
                try:
                    pids.update(int(x) for x in procs.read_text().split())
                except OSError:
                    pass
    return sorted(pids)


def daemon_down() -> None:
    pid = daemon_pid()
    if pid is None:
        step("daemon b is not running")
    else:
        step(f"stopping dockerd b (pid {pid}); its containers stop with it")
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, STOP_TIMEOUT):
            step(f"dockerd b still running after {STOP_TIMEOUT:.0f} s: killing it")
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
        else:
            step(f"dockerd b stopped after {time.monotonic() - started:.1f} s")
    # After a clean stop nothing of b remains; after a kill (or a crash of dockerd b), its containerd,
    # shims and container processes would: they are found by b's own socket and cgroup parent only.
    containerd = _pid(MANAGED_CONTAINERD_PID)
    if containerd is not None and Path(f"/proc/{containerd}/comm").read_text().strip() == "containerd":
        step(f"stopping daemon b's containerd (pid {containerd})")
        os.kill(containerd, signal.SIGTERM)
        if not _wait_gone(containerd, 15):
            os.kill(containerd, signal.SIGKILL)
    for shim in _own_shims():
        step(f"killing leftover shim of daemon b (pid {shim})")
        os.kill(shim, signal.SIGKILL)
    if leftover := _own_container_pids():
        step(f"killing leftover container processes of daemon b (pids {leftover})")
        for pid in leftover:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    SOCKET.unlink(missing_ok=True)


def load_base_image() -> None:
    if docker_b("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        step(f"{BASE_IMAGE} present on daemon b")
        return
    if not ok("docker", "image", "inspect", BASE_IMAGE):
        die(f"the default daemon has no {BASE_IMAGE} to copy: run `bash toolchain/base_image.sh` first")
    step(f"copying {BASE_IMAGE} from the default daemon to daemon b")
    started = time.monotonic()
    save = subprocess.Popen(["docker", "save", BASE_IMAGE], stdout=subprocess.PIPE)
    try:
        loaded = subprocess.run(["docker", "-H", URL, "load", "--quiet"], stdin=save.stdout, capture_output=True,
                                text=True, timeout=LOAD_TIMEOUT)
    finally:
        save.stdout.close()
        save.wait(timeout=30)
    if save.returncode != 0 or loaded.returncode != 0:
        die(f"copying {BASE_IMAGE} failed: save exit {save.returncode}, load exit {loaded.returncode}: "
            f"{loaded.stderr.strip()}")
    step(f"{loaded.stdout.strip()} on daemon b in {time.monotonic() - started:.1f} s")


# --- commands -------------------------------------------------------------------------------------

def status() -> dict:
    a, b = link(LINK_A), link(LINK_B, netns=True)

    def describe(found: dict | None) -> dict | None:
        if found is None:
            return None
        # admin_up: set up by `ip link`; state: carrying traffic (cs-a is admin-up but DOWN while cs-b is cut).
        return {"state": found.get("operstate"), "admin_up": "UP" in found.get("flags", []),
                "addresses": [f"{x['local']}/{x['prefixlen']}" for x in found.get("addr_info", [])
                              if x["family"] == "inet"]}

    routes_b = (json.loads(run("ip", "-n", NETNS, "-j", "route", "show", "default").stdout or "[]")
                if netns_exists() else [])
    pid = daemon_pid()
    info = None
    if pid is not None:
        result = docker_b("info", "--format", "{{json .}}", check=False, timeout=10)
        if result.returncode == 0:
            raw = json.loads(result.stdout)
            info = {k: raw.get(k) for k in ("ServerVersion", "DockerRootDir", "Driver", "Containers",
                                            "ContainersRunning", "Images", "CgroupDriver")}
    a_to_b, b_to_a = ping(ADDRESS_B) if a else None, ping(ADDRESS_A, from_b=True) if b else None
    return {
        "netns": NETNS if netns_exists() else None,
        "links": {LINK_A: describe(a), LINK_B: describe(b)},
        "hosts": {"a": {"url": "unix:///var/run/docker.sock", "address": ADDRESS_A},
                  "b": {"url": URL, "address": ADDRESS_B}},
        "default_route_b": routes_b[0].get("gateway") if routes_b else None,
        "nat_rules": len(owned_rules()),
        "reachable": {"a_to_b_ms": a_to_b and round(a_to_b, 3), "b_to_a_ms": b_to_a and round(b_to_a, 3)},
        "daemon_b": {"running": pid is not None, "pid": pid, "answering": info is not None, "info": info,
                     "base_image": info is not None and docker_b("image", "inspect", BASE_IMAGE, check=False,
                                                                  timeout=10).returncode == 0,
                     "data_root": str(DATA_ROOT), "log": str(LOG)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "cut", "heal", "status", "ping"])
    parser.add_argument("address", nargs="?", help="ping: the address to send one ICMP echo to")
    parser.add_argument("--from", dest="source", choices=["a", "b"], default="a", help="ping: from which host")
    parser.add_argument("--timeout", type=float, default=1.0, help="ping: seconds to wait for the reply")
    args = parser.parse_args()
    if os.geteuid() != 0:
        die("needs root (ip netns, iptables, a second dockerd)")
    if args.command == "up":
        started = time.monotonic()
        network_up()
        daemon_up()
        load_base_image()
        step(f"host b ready in {time.monotonic() - started:.1f} s: docker -H {URL} ...; address {ADDRESS_B}")
    elif args.command == "down":
        daemon_down()
        network_down()
        step(f"host b is down; its data root stays in {DATA_ROOT}")
    elif args.command == "cut":
        cut()
    elif args.command == "heal":
        heal()
    elif args.command == "status":
        print(json.dumps(status(), indent=2))
    else:
        if not args.address:
            die("ping needs an address")
        rtt = ping(args.address, from_b=args.source == "b", timeout=args.timeout)
        print(json.dumps({"from": args.source, "to": args.address, "rtt_ms": rtt and round(rtt, 3)}))
        if rtt is None:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
