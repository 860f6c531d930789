#!/usr/bin/env python3
"""Runs SQL on current ClickHouse, in process, through chdb (PyPI: chdb-core). Used by test/sql-portability.test.ts.

Reads one JSON job from stdin:
  {"statements": [sql, ...],
   "native_inserts": [{"table": name, "columns": [name, ...], "file": "/abs/path.native"}, ...],
   "queries": [{"name": name, "sql": sql}, ...]}
In a fresh session (its own temporary directory) it creates and selects the database runstream_test, runs the
statements in order, inserts each Native file, then runs each query with JSONEachRow output. Prints one JSON object:
  {"version": "<SELECT version()>", "results": {name: [row, ...]}, "timings_ms": {...}}
The first failure stops the job (exit code 1, a message on stderr that quotes the failing SQL).
"""
import json
import re
import shutil
import sys
import tempfile
import time

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def fail(what, sql, err):
    sys.stderr.write(f"chdb-runner: {what} failed: {err}\n--- SQL ---\n{sql}\n-----------\n")
    sys.exit(1)


def run(session, what, sql, fmt="CSV"):
    try:
        return session.query(sql, fmt)
    except Exception as err:  # chdb raises ChdbError (a RuntimeError); anything else is just as fatal
        fail(what, sql, err)


MAX_SAFE_INTEGER = 2**53 - 1


def exact_int(text):
    # chdb prints 64-bit integers as JSON numbers; JavaScript would round those above 2^53, so pass them as strings.
    n = int(text)
    return n if -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER else text


def rows_of(result):
    text = result.bytes().decode("utf-8")
    return [json.loads(line, parse_int=exact_int) for line in text.splitlines() if line.strip()]


def quote_ident(name):
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f"`{name}`"


def quote_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main():
    job = json.load(sys.stdin)
    from chdb import session as chdb_session

    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="runstream-chdb-")
    session = chdb_session.Session(workdir)
    timings = {"session_ms": 0, "statements_ms": 0, "inserts_ms": 0, "queries_ms": 0}
    try:
        timings["session_ms"] = round((time.monotonic() - started) * 1000)
        version = rows_of(run(session, "version", "SELECT version() AS v", "JSONEachRow"))[0]["v"]
        run(session, "create database", "CREATE DATABASE IF NOT EXISTS runstream_test")
        run(session, "use database", "USE runstream_test")

        t = time.monotonic()
        for i, statement in enumerate(job.get("statements", [])):
            run(session, f"statement #{i + 1}", statement)
        timings["statements_ms"] = round((time.monotonic() - t) * 1000)

        # file() reads absolute paths in chdb (no user_files_path restriction); the Native header carries names and types.
        t = time.monotonic()
        for ins in job.get("native_inserts", []):
            columns = ", ".join(quote_ident(c) for c in ins["columns"])
            sql = f"INSERT INTO {quote_ident(ins['table'])} ({columns}) SELECT * FROM file({quote_string(ins['file'])}, 'Native')"
            run(session, f"native insert into {ins['table']}", sql)
        timings["inserts_ms"] = round((time.monotonic() - t) * 1000)

        t = time.monotonic()
        results = {}
        for q in job.get("queries", []):
            results[q["name"]] = rows_of(run(session, f"query {q['name']!r}", q["sql"], "JSONEachRow"))
        timings["queries_ms"] = round((time.monotonic() - t) * 1000)
    finally:
        try:
            session.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    json.dump({"version": version, "results": results, "timings_ms": timings}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
