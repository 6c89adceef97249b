"""County-scale data: a believable, internally consistent bank generated at any size.

``generate.build`` writes every table with ``COPY`` (see ``copy.py``); ``manage.py seed_scale``
runs it, and ``scripts/bench_county.py`` measures the app on what it wrote.
"""
