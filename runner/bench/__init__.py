"""`lapbench bench`: llama-bench-style throughput (pp/tg/pg tests, mean ± stddev, peak memory per test).

`spec` turns options into configurations × tests, `plan` defines the tests, records and statistics,
`execute` runs one worker process per configuration (interleaved repetitions), `worker` does the measuring
through the profiler, and `output` renders table, json, jsonl, csv or md.
"""
