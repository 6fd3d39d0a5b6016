"""Kafka: topics' administration, client security, the batch sender and a plain topic reader."""
