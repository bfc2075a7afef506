"""DuckDB side of bench/read.sh: times queries over the Parquet export of a
flowsql store, in one process, warm.

    python bench/duckdb_compare.py FLOWS.parquet RUNS < queries.json

queries.json is {"Q1": "SELECT ... FROM flows ...", ...}. `flows` is a view
over the Parquet file with the virtual columns bytes and packets and the
block start t in Unix seconds. Each query runs once to warm up, then RUNS
times; a query marked with a leading "COPY:" is written as CSV to /dev/null
(as flowsql's output is), the others are fetched. Threads are 2, like the
machine flowsql runs on. Prints {"Q1": {"best_ms": .., "median_ms": .., "rows": ..}, ...}.
"""

import json
import statistics
import sys
import time

import duckdb


def main():
    parquet, runs = sys.argv[1], int(sys.argv[2])
    queries = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        """CREATE VIEW flows AS
           SELECT *, bytes_in + bytes_out AS bytes, packets_in + packets_out AS packets,
                  epoch(time)::BIGINT AS t
           FROM read_parquet('%s')"""
        % parquet.replace("'", "''")
    )
    out = {}
    for name, sql in queries.items():
        copy = sql.startswith("COPY:")
        if copy:
            sql = "COPY (%s) TO '/dev/null' (FORMAT csv, HEADER)" % sql[len("COPY:"):]

        def once():
            r = con.execute(sql)
            return r.fetchall()

        rows = once()  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            once()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = {
            "best_ms": min(times),
            "median_ms": statistics.median(times),
            "rows": rows[0][0] if copy else len(rows),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
