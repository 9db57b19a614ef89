"""Benchmarks of imagetasks: standalone scripts, run as ``.venv/bin/python bench/NAME.py``."""
