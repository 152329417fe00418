"""Developer tooling behind the Makefile (not deployed)."""
