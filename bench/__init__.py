"""Benchmarks of Registry: `make bench` (bench/registry_bench.py) and `make bench-mlflow` (bench/mlflow_bench.py)."""
