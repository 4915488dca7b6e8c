"""cachewatch's weekly TTL review: what-if hit-ratio curves from sampled real traffic.

    from ttlreview import run, load_review
    review = run("out/ttl-review", trace="trace.csv")
    review.recommendations[["endpoint", "reason"]]

See docs/ttl-review.md for the model, the outputs and how to read them.
"""

from __future__ import annotations

from ttlreview.recommend import Budgets
from ttlreview.review import Review, load_events, load_review, review_events, run, write_review

__all__ = [
    "Budgets",
    "Review",
    "load_events",
    "load_review",
    "review_events",
    "run",
    "write_review",
]
