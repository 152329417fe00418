"""Locust users for Kafka itself: produce latency and throughput as Locust stats.

    CLICKSTREAM_KAFKA_BOOTSTRAP=127.0.0.1:19092 python -m locust -f loadtests/kafka_locustfile.py \
        --headless -u 10 -r 10 -t 60s
    python -m loadtests.run kafka

- KafkaSendUser: one record at a time, acks=all, waiting for each: the latency of one durable write.
- KafkaBulkUser (always exactly one): batches of BATCH rows of the bundled sample, sent with the
  producer's own bulk settings (`producer.publish.producer_config`: idempotent, lz4, 1 MiB batches) and
  flushed per batch: the rate `make load` gets. Rows per second = its req/s x BATCH.

Both write to a scratch topic, made at test start (the brokers do not auto-create topics) with a short
retention and deleted at test stop; nothing in the pipeline reads it. Brokers must be on 127.0.0.1:
the bootstrap list is checked before connecting, and every broker the cluster advertises before any
record is sent. It imports loadtests.*, contract.* and producer.* (the checkout is installed editable).
"""

from __future__ import annotations

import logging
import time

import gevent
from locust import User, between, constant, events, tag, task
from locust.exception import StopUser

from contract.settings import Settings
from loadtests import target, titles

#: The servers and the login (CLICKSTREAM_KAFKA_USER and _PASSWORD_FILE, which `make loadtest` sets to the admin's).
CONNECTION = Settings.from_env().kafka_client_config()
BOOTSTRAP = ",".join(CONNECTION["bootstrap_servers"])
TOPIC = "loadtest.produce"
PARTITIONS = 3
RETENTION_MS = 10 * 60 * 1000  # scratch data: gone soon even if the delete at test stop never runs
BATCH = 1000
SEND_TIMEOUT_S = 10

log = logging.getLogger(__name__)
logging.getLogger("kafka").setLevel(logging.WARNING)  # its per-connection INFO lines would bury Locust's
ready = False  # set once the topic exists and the brokers are checked; users refuse to start before


def _admin():
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**CONNECTION, client_id="clickstream-loadtest")


@events.test_start.add_listener
def _make_topic(environment, **_):
    """Check every broker is on this machine, then make the scratch topic, replicated like the real ones."""
    global ready
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    ready = False
    refused = target.check(BOOTSTRAP.split(","))
    admin = None
    try:
        if not refused:
            admin = _admin()
            brokers = admin.describe_cluster()["brokers"]
            refused = target.check([f"{b['host']}:{b['port']}" for b in brokers])
        if refused:
            log.error("refusing Kafka brokers %s: load tests send traffic to 127.0.0.1/localhost only", refused)
            environment.process_exit_code = 3
            gevent.spawn(environment.runner.quit)
            return
        replicas = min(3, len(brokers))
        config = {"retention.ms": str(RETENTION_MS), "min.insync.replicas": str(min(2, replicas))}
        try:
            admin.create_topics([NewTopic(TOPIC, PARTITIONS, replicas, topic_configs=config)], wait_for_metadata=True)
        except TopicAlreadyExistsError:
            pass
        ready = True
        log.info("producing to %s (%d partitions, %d replicas) on %s", TOPIC, PARTITIONS, replicas, BOOTSTRAP)
    finally:
        if admin is not None:
            admin.close()


@events.test_stop.add_listener
def _drop_topic(environment, **_):
    if not ready:
        return
    admin = _admin()
    try:
        admin.delete_topics([TOPIC])
    except Exception as err:  # noqa: BLE001 - retention removes the data anyway
        log.warning("could not delete %s: %s", TOPIC, err)
    finally:
        admin.close()


class KafkaClient:
    """Times each send (or batch) and reports it to Locust, as Locust's custom-client example does."""

    def __init__(self, environment, **config):
        from kafka import KafkaProducer

        self._producer = KafkaProducer(**CONNECTION | config)
        self._events = environment.events

    def _report(self, name: str, started: float, size: int, exception: Exception | None) -> None:
        self._events.request.fire(request_type="kafka", name=name, response_time=(time.perf_counter() - started) * 1000,
                                  response_length=size, exception=exception, context={})

    def send(self, value: bytes, key: bytes | None = None) -> None:
        """One record, waiting for the acknowledgement."""
        started, exception = time.perf_counter(), None
        try:
            self._producer.send(TOPIC, value, key=key).get(timeout=SEND_TIMEOUT_S)
        except Exception as err:  # noqa: BLE001 - reported to Locust, not raised
            exception = err
        self._report(f"send {TOPIC}", started, len(value), exception)

    def send_batch(self, records: list[tuple[bytes, bytes]]) -> None:
        """Many records, then flush: one Locust request per batch, failed if any record was not acknowledged."""
        started, exception = time.perf_counter(), None
        try:
            futures = [self._producer.send(TOPIC, value, key=key) for key, value in records]
            self._producer.flush(timeout=SEND_TIMEOUT_S * 3)
            failed = [f.exception for f in futures if not f.succeeded()]
            if failed:
                raise RuntimeError(f"{len(failed)} of {len(records)} records not acknowledged: {failed[0]!r}")
        except Exception as err:  # noqa: BLE001 - reported to Locust, not raised
            exception = err
        self._report(f"batch {len(records)} rows {TOPIC}", started, sum(len(v) for _, v in records), exception)

    def close(self) -> None:
        self._producer.close(timeout=5)


def _sample_records() -> list[tuple[bytes, bytes]]:
    """BATCH rows of the bundled sample, keyed and encoded as the producer sends them."""
    from contract.records import Row, encode, parse_line

    lines = titles.SAMPLE.read_bytes().splitlines()
    rows = [row for row in map(parse_line, lines) if isinstance(row, Row)]
    return [encode(titles.SAMPLE_LANG, titles.SAMPLE_MONTH, rows[i % len(rows)]) for i in range(BATCH)]


class _KafkaUser(User):
    abstract = True

    def on_start(self):
        if not ready:
            raise StopUser()  # _make_topic has logged why
        self.kafka = self.make_client()
        self.records, self.sent = _sample_records(), 0

    def on_stop(self):
        if hasattr(self, "kafka"):
            self.kafka.close()


class KafkaSendUser(_KafkaUser):
    """One acks=all record at a time: how long a durable write takes while the bulk user loads."""

    weight = 1
    wait_time = between(0.0, 0.01)

    def make_client(self) -> KafkaClient:
        # linger 0: the user waits for every record, so lingering would only add to its latency.
        return KafkaClient(self.environment, acks="all", linger_ms=0)

    @tag("send")
    @task
    def produce(self):
        key, value = self.records[self.sent % len(self.records)]
        self.kafka.send(value, key)
        self.sent += 1


class KafkaBulkUser(_KafkaUser):
    """A bulk load as `make load` sends it, batch after batch."""

    fixed_count = 1
    wait_time = constant(0)

    def make_client(self) -> KafkaClient:
        from producer.publish import producer_config

        return KafkaClient(self.environment, **producer_config(CONNECTION, "clickstream-loadtest"))

    @tag("bulk")
    @task
    def produce_batch(self):
        self.kafka.send_batch(self.records)
