"""The publisher's partitioner is Kafka's: a journey lands on the same partition whichever
client published it."""

from __future__ import annotations

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from streams.kafka.batch_sender import KEYS_REMEMBERED, KeyPartitioner, murmur2

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (Java ints, signed).
KAFKA_CASES = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_murmur2_gives_kafkas_own_test_values() -> None:
    for data, expected in KAFKA_CASES.items():
        assert murmur2(data) == expected & 0xFFFFFFFF, data


@given(st.binary(max_size=80))
def test_murmur2_agrees_with_aiokafka_on_any_bytes(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


def test_the_partition_is_positive_murmur2_modulo_the_count_also_once_forgotten() -> None:
    partitioner = KeyPartitioner(range(12))
    keys = [f"j-{n:012d}".encode() for n in range(KEYS_REMEMBERED + 10)]
    expected = [(aiokafka_murmur2(k) & 0x7FFFFFFF) % 12 for k in keys[:50]]
    assert [partitioner(k) for k in keys[:50]] == expected
    for key in keys:  # past the limit the remembered keys are dropped, not wrong
        partitioner(key)
    assert [partitioner(k) for k in keys[:50]] == expected
