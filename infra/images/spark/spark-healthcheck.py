#!/usr/bin/env python3
"""Docker HEALTHCHECK for the Spark image; exit 0 when healthy. Reads the daemon's web UI JSON (/json).

master: status is ALIVE, and at least SPARK_HEALTHCHECK_MIN_WORKERS (default 0) workers are alive.
worker: its web UI answers and it has registered with a master.
driver (no SPARK_MODE): healthy while a process runs; nothing to check.
"""
import json
import os
import sys
import urllib.request


def get(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=4) as r:
        return json.load(r)


def main():
    mode = os.environ.get("SPARK_MODE", "")
    try:
        if mode == "master":
            s = get(os.environ.get("SPARK_MASTER_WEBUI_PORT", "8080"))
            alive = s.get("aliveworkers", 0)
            want = int(os.environ.get("SPARK_HEALTHCHECK_MIN_WORKERS", "0"))
            print(f"master {s.get('status')} {s.get('url')}: {alive} workers alive, "
                  f"cores {s.get('coresused')}/{s.get('cores')}, memory {s.get('memoryused')}/{s.get('memory')} MB")
            return 0 if s.get("status") == "ALIVE" and alive >= want else 1
        if mode == "worker":
            s = get(os.environ.get("SPARK_WORKER_WEBUI_PORT", "8081"))
            master = s.get("masterurl")  # empty until the worker has registered
            print(f"worker {s.get('id')} master={master or 'NOT REGISTERED'}: "
                  f"cores {s.get('coresused')}/{s.get('cores')}, memory {s.get('memoryused')}/{s.get('memory')} MB")
            return 0 if master else 1
        return 0
    except Exception as e:  # noqa: BLE001 - any failure to answer is unhealthy
        print(f"{mode or 'spark'} UI not answering: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
