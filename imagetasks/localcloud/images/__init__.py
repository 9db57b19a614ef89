"""Images v2 of the built-in cloud: the tasks API (Rackspace flavour, reference §8.1),
the image views the tasks need, and the schemas clients validate against."""
