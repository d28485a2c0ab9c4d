"""Coverage-guided fuzz harnesses (atheris) of the hub's pure parsers; see test_fuzz.py."""
