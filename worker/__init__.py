"""RQ jobs, the queue helper and the Admin API client. Never imports plugin."""
