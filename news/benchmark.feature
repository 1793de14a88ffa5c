``make bench`` measures the tick against an empty request, a naive tick and the bytes a run appends; the figures are in ``docs/benchmark.rst``.
An idle tick now costs the same whatever the number of jobs, and a run appends fewer bytes to a long history.
