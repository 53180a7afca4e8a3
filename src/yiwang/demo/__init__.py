"""Demo data (演示数据) for ``make run``: written by the project itself, loaded by ``yiwang demo``."""
