"""DuckDB oracle for the differential tests of flowsql's query engine
(duckdb_test.go).

    python duckdb_oracle.py queries FLOWS.parquet < queries.json > results.json
    python duckdb_oracle.py files FLOWS.parquet FLOWS.arrow FLOWS.csv > files.json

queries: loads the Parquet export of a store into a DuckDB table `flows`
with helper columns that stand in for the inet extension (which would
need a download):

    t              BIGINT   the block start as Unix seconds
    bytes, packets UBIGINT  bytes_in + bytes_out, packets_in + packets_out
    sip_x, dip_x   VARCHAR  the address as 32 hex digits of its 16-byte form
                            (IPv4 as ::ffff:a.b.c.d): string order is
                            address order, and a CIDR is a BETWEEN range
    sip_4, dip_4   BOOLEAN  the address is IPv4

The keys are computed here with Python's ipaddress module from the
exported text, independently of flowsql. Then it runs each query of the
JSON list on stdin ([{"id": 0, "sql": "..."}]) and prints
[{"id": 0, "rows": [[...]], "error": null}]: integers as decimal strings,
floats as repr strings, NULL as null.

files: reads the three exports back with pyarrow and DuckDB and prints
their schemas, row counts and byte totals.
"""

import ipaddress
import json
import sys

import duckdb
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq


def addr_key(text):
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return (b"\0" * 10 + b"\xff\xff" + a.packed).hex(), True
    return a.packed.hex(), False


def load(con, parquet):
    con.execute("SET threads = 2")
    addrs = con.execute(
        "SELECT sip AS a FROM read_parquet(?) UNION SELECT dip FROM read_parquet(?)",
        [parquet, parquet],
    ).fetchall()
    keys = [addr_key(a) for (a,) in addrs]
    addrkeys = pa.table(
        {
            "a": [a for (a,) in addrs],
            "x": [k for k, _ in keys],
            "v4": [v4 for _, v4 in keys],
        }
    )
    con.register("addrkeys", addrkeys)
    con.execute(
        """
        CREATE TABLE flows AS
        SELECT p.*,
               epoch(p.time)::BIGINT AS t,
               p.bytes_in + p.bytes_out AS bytes,
               p.packets_in + p.packets_out AS packets,
               s.x AS sip_x, s.v4 AS sip_4,
               d.x AS dip_x, d.v4 AS dip_4
        FROM read_parquet(?) p
        JOIN addrkeys s ON p.sip = s.a
        JOIN addrkeys d ON p.dip = d.a
        """,
        [parquet],
    )


def cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def queries(parquet):
    con = duckdb.connect()
    load(con, parquet)
    out = []
    for q in json.load(sys.stdin):
        try:
            rows = con.execute(q["sql"]).fetchall()
            out.append({"id": q["id"], "rows": [[cell(v) for v in r] for r in rows], "error": None})
        except Exception as e:  # reported per query; the Go side fails the test
            out.append({"id": q["id"], "rows": None, "error": str(e)})
    json.dump(out, sys.stdout)


def files(parquet, arrow_file, csv_file):
    pt = pq.read_table(parquet)
    at = feather.read_table(arrow_file)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    out = {
        "parquet_schema": {f.name: str(f.type) for f in pt.schema},
        "arrow_schema": {f.name: str(f.type) for f in at.schema},
        "parquet_rows": pt.num_rows,
        "arrow_rows": at.num_rows,
        "parquet_duckdb_types": {
            name: typ
            for name, typ in con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", [parquet]
            ).fetchall()
        },
    }
    for name, rel in [
        ("parquet", "read_parquet(?)"),
        ("csv", "read_csv(?, header = true)"),
    ]:
        path = parquet if name == "parquet" else csv_file
        rows, total = con.execute(f"SELECT count(*), sum(bytes_in + bytes_out)::VARCHAR FROM {rel}", [path]).fetchall()[0]
        out[name + "_duckdb"] = {"rows": rows, "bytes": total}
    con.register("arrow_table", at)
    rows, total = con.execute("SELECT count(*), sum(bytes_in + bytes_out)::VARCHAR FROM arrow_table").fetchall()[0]
    out["arrow_duckdb"] = {"rows": rows, "bytes": total}
    pdf = pt.to_pandas()
    out["pandas"] = {"rows": len(pdf), "bytes": str(int(pdf["bytes_in"].sum() + pdf["bytes_out"].sum())), "time_dtype": str(pdf["time"].dtype)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "queries":
        queries(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "files":
        files(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
