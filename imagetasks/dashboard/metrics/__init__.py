"""/metrics: the deployment's state for Prometheus, read from the database at each
scrape (``collector``), and the web process's own request latency (``http``)."""
