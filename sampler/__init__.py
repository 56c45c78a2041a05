"""CoreNet, CoreNet+, CoreNet++ and the baselines, on torch models."""

__all__: list[str] = []
