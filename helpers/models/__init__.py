"""Reference model builders used by the assignments' checks and by the benchmarks."""
