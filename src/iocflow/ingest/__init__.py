"""Getting indicators into the store: threat feeds, articles, and indicators pushed by other tools.

Every path ends in ``runner.store_observations``, which writes in batches (one
transaction each) and reports rows read / new / updated / unchanged / rejected.
"""
