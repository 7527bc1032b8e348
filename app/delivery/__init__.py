"""Work outside the request path: timers (and, later, push delivery)."""
