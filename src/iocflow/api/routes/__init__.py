"""One router per resource; routes hold no queries, they call the store and the enrichers."""
