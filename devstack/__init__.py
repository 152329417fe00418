"""The development stack from the host: the stack driver behind the Makefile, waits on loads, test-host helpers.

Imported by the tests, the load tests and the benchmarks; it imports none of them.
"""
