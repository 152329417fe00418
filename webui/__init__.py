"""Web UI: Dash dashboard and JSON API over the Cassandra aggregates."""
