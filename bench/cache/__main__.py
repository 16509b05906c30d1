"""``python -m bench.cache`` (what ``make bench-cache`` runs): see bench/cache/runner.py."""

import sys

from bench.cache.runner import main

sys.exit(main())
