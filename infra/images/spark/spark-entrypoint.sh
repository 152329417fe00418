#!/usr/bin/env bash
# SPARK_MODE=master|worker starts that standalone daemon in the foreground; with no SPARK_MODE the arguments run as a
# command (a driver: `spark-submit ...`, `pyspark`, `bash`).
#   master: SPARK_MASTER_HOST (name or address that workers and drivers reach it by; default: this container's IP),
#           SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080)
#   worker: SPARK_MASTER_URL (required, spark://spark-master:7077), SPARK_WORKER_HOST (default: this container's IP),
#           SPARK_WORKER_CORES, SPARK_WORKER_MEMORY (e.g. 1g), SPARK_WORKER_PORT (random), SPARK_WORKER_WEBUI_PORT (8081)
#           SPARK_WORKER_OPTS (default here: clean finished apps' work dirs after a day)
#   both:   SPARK_DAEMON_MEMORY (daemon heap; default here 512m), SPARK_DAEMON_JAVA_OPTS, SPARK_PUBLIC_DNS (UI links),
#           CLICKSTREAM_SPARK_AUTH_FILE (a properties file with spark.authenticate and its secret: a file, so the
#           secret is on no command line and in no env)
# Extra arguments are passed to the daemon.
set -euo pipefail

# The container's own hostname is unknown to its peers; its IP on the (first) network is always reachable.
own_ip() { hostname -i | awk '{print $1}'; }
export SPARK_DAEMON_MEMORY="${SPARK_DAEMON_MEMORY:-512m}"
auth=()
[ -z "${CLICKSTREAM_SPARK_AUTH_FILE:-}" ] || auth=(--properties-file "$CLICKSTREAM_SPARK_AUTH_FILE")

case "${SPARK_MODE:-}" in
  master)
    host="${SPARK_MASTER_HOST:-$(own_ip)}"
    echo "spark master on $host:${SPARK_MASTER_PORT:-7077}, UI :${SPARK_MASTER_WEBUI_PORT:-8080}" >&2
    exec spark-class org.apache.spark.deploy.master.Master --host "$host" \
      --port "${SPARK_MASTER_PORT:-7077}" --webui-port "${SPARK_MASTER_WEBUI_PORT:-8080}" "${auth[@]}" "$@"
    ;;
  worker)
    : "${SPARK_MASTER_URL:?set SPARK_MASTER_URL, e.g. spark://spark-master:7077}"
    export SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:--Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=86400}"
    host="${SPARK_WORKER_HOST:-$(own_ip)}"
    args=(--host "$host" --webui-port "${SPARK_WORKER_WEBUI_PORT:-8081}" "${auth[@]}")
    [ -z "${SPARK_WORKER_PORT:-}" ] || args+=(--port "$SPARK_WORKER_PORT")
    [ -z "${SPARK_WORKER_CORES:-}" ] || args+=(--cores "$SPARK_WORKER_CORES")
    [ -z "${SPARK_WORKER_MEMORY:-}" ] || args+=(--memory "$SPARK_WORKER_MEMORY")
    echo "spark worker on $host for $SPARK_MASTER_URL (cores ${SPARK_WORKER_CORES:-all}, memory ${SPARK_WORKER_MEMORY:-total-1g})" >&2
    exec spark-class org.apache.spark.deploy.worker.Worker "${args[@]}" "$@" "$SPARK_MASTER_URL"
    ;;
  "")
    [ $# -gt 0 ] || { echo "set SPARK_MODE=master|worker, or give a command (spark-submit ...)" >&2; exit 64; }
    exec "$@"
    ;;
  *)
    echo "unknown SPARK_MODE '$SPARK_MODE' (master|worker, or unset to run a command)" >&2
    exit 64
    ;;
esac
