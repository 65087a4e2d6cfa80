"""lapbench: fit, function-calling benchmark and cost profile of open-weight LLMs on your own machine."""

__version__ = "0.1.0"


def _register_runner_backends() -> None:
    # The oracle answers from the benchmark's gold answers, so it lives in runner/, not in backends/.
    from backends.registry import register_backend

    register_backend("oracle", "runner.oracle.backend:OracleBackend")


_register_runner_backends()
