"""Benchmarks, question generation, baselines, metrics and reports."""
