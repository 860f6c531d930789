"""Straight to Kafka: the metrics topic the ingest worker reads, with the TypeScript SDK's message format and key."""

from __future__ import annotations

import logging
import time
from typing import Any

from ._delivery import Done, EntityKey, Point
from ._metric_codec import encode_metric_batch, partition_key

log = logging.getLogger("runstream")

# Brokers reject a record batch over max.message.bytes (1 MiB by default); one message of 2000 points is ~60 KB.
MAX_MESSAGE_BYTES = 900_000


class MissingTopicError(RuntimeError):
    """The brokers answer but the metrics topic does not exist: a wrong prefix, or the ingest worker never ran."""

    def __init__(self, topic: str, brokers: str, prefix: str) -> None:
        super().__init__(
            f"Kafka topic {topic!r} does not exist on {brokers}: check the topic prefix ({prefix!r}, "
            "RUNSTREAM_TOPIC_PREFIX) matches the ingest worker's KAFKA_TOPIC_PREFIX, and that the worker has run once"
        )
        self.topic = topic


class KafkaUnreachableError(RuntimeError):
    pass


def producer_config(brokers: str, client_id: str, delivery_timeout_s: float) -> dict[str, Any]:
    return {
        "bootstrap.servers": brokers,
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        # Java's (and kafkajs's) partitioner: a key lands on the partition the worker and the read fence expect.
        "partitioner": "murmur2_random",
        "linger.ms": 20,
        "compression.type": "none",
        "message.max.bytes": 1_000_000,
        # A broker that is down is retried until this deadline; then the points count as failed.
        "message.timeout.ms": int(delivery_timeout_s * 1000),
        "queue.buffering.max.kbytes": 256 * 1024,
        "logger": logging.getLogger("runstream.kafka"),
    }


class KafkaTransport:
    name = "kafka"

    def __init__(self, brokers: str, topic: str, prefix: str, *, client_id: str, producer_id: str | None, connect_timeout_s: float, delivery_timeout_s: float) -> None:
        from confluent_kafka import KafkaException, Producer

        self.topic = topic
        self._producer_id = producer_id
        self._producer = Producer(producer_config(brokers, client_id, delivery_timeout_s))
        try:
            # All topics, not this one: asking for one topic may make a broker create it.
            metadata = self._producer.list_topics(timeout=connect_timeout_s)
        except KafkaException as err:
            raise KafkaUnreachableError(f"Kafka at {brokers} did not answer within {connect_timeout_s} s: {err}") from None
        if topic not in metadata.topics:
            raise MissingTopicError(topic, brokers, prefix)

    def send(self, entity: EntityKey, points: list[Point], done: Done) -> None:
        kind, entity_id = entity
        value = encode_metric_batch(kind, entity_id, points, self._producer_id)
        if len(value) > MAX_MESSAGE_BYTES and len(points) > 1:
            half = (len(points) + 1) // 2
            self.send(entity, points[:half], done)
            self.send(entity, points[half:], done)
            return
        n = len(points)

        def on_delivery(err: Any, _msg: Any) -> None:
            done(n, None if err is None else str(err))

        key = partition_key(kind, entity_id)
        while True:
            try:
                self._producer.produce(self.topic, value=value, key=key, on_delivery=on_delivery)
                return
            except BufferError:
                # librdkafka's own queue is full (a broker outage): wait for deliveries, keep the points.
                self._producer.poll(0.1)

    def poll(self, timeout: float) -> None:
        self._producer.poll(timeout)

    def close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self._producer) > 0 and time.monotonic() < deadline:
            self._producer.poll(0.05)
