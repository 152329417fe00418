"""Spark jobs: the streaming landing of rows and the exact aggregates of each load."""
