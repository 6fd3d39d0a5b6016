"""journey-telemetry: customer-journey interaction telemetry on Kafka, Faust and ClickHouse."""

__version__ = "0.1.0"
