"""A Locust user for Kafka itself: produce latency and throughput as Locust stats.

    locust -f loadtests/kafka_locustfile.py --headless -u 10 -t 60s

Sends acks=all to the stack's published Kafka listeners on 127.0.0.1 ($CLICKSTREAM_KAFKA_BOOTSTRAP).
"""

from __future__ import annotations

import os
import time

from locust import User, between, task


class KafkaClient:
    """Times each send and reports it to Locust, as Locust's custom-client example does."""

    def __init__(self, bootstrap: str, environment):
        from kafka import KafkaProducer

        self._producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=5)
        self._events = environment.events

    def send(self, topic: str, value: bytes) -> None:
        started = time.perf_counter()
        exception = None
        try:
            self._producer.send(topic, value).get(timeout=10)
        except Exception as err:  # noqa: BLE001 - reported to Locust, not raised
            exception = err
        self._events.request.fire(request_type="kafka", name=f"send {topic}",
                                  response_time=(time.perf_counter() - started) * 1000,
                                  response_length=len(value), exception=exception, context={})


class KafkaProducerUser(User):
    """Produces rows to a scratch topic and reports produce latency and throughput."""

    wait_time = between(0.0, 0.01)
    topic = "loadtest.produce"

    def on_start(self):
        self.kafka = KafkaClient(os.environ.get("CLICKSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:19092"), self.environment)

    @task
    def produce(self):
        self.kafka.send(self.topic, b"en\t2024-11\tother-search\tLocust\texternal\t10")
