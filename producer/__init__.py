"""Producer: downloads and validates clickstream dumps and streams them into Kafka."""
