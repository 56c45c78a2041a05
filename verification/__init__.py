"""Statistical verification of the (1 +- eps, delta) guarantee, hypothesis strategies, the CLI."""

__all__: list[str] = []
