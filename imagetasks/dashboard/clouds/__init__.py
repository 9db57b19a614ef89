"""The dashboard's way to a cloud: clients from ``Cloud`` rows, secrets at rest, clouds.yaml."""
