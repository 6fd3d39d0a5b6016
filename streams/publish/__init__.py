"""Publishing events: reading files, pseudonymising, validating and sending them to Kafka."""
