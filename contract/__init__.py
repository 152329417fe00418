"""The data contract shared by every component: record format, topics, Cassandra schema, settings."""
