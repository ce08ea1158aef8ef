"""Tests of the benchmark code itself (never the benchmarks: those run with make bench)."""
