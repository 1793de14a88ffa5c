"""The benchmark of collective.crontab: ``make bench`` (``python -m bench``).

See docs/benchmark.rst for what each figure means and how it is measured.
"""
