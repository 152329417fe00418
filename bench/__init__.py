"""Benchmarks on a running stack (docs/benchmarks.md); they drive it through devstack."""
