"""The fuzz tier: generated input against the real intake app, bounded and reproducible (issue 12, item 12).

Every test here is marked ``fuzz`` and ``slow``. Hypothesis runs derandomized with no example
database, so a CI run is the same run every time and a failure reproduces from its printed example.
``INTAKE_FUZZ_SCALE=10`` multiplies every example budget (a deeper local run); ``INTAKE_FUZZ_RANDOM=1``
draws new examples each run (to keep finding them); see tests/fuzz/conftest.py.
"""
