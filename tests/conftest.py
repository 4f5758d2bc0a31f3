"""Shared fixtures: throwaway workspaces, the CLI, an independent Iceberg reader, real servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import odg_workbench as odg

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
ODG = str(Path(sys.executable).with_name("odg"))


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[odg.Workbench]:
    """A fresh workspace in a temporary folder."""
    wb = odg.open(tmp_path / "ws", user="tester")
    yield wb
    wb.close()


@pytest.fixture
def ws_path(ws: odg.Workbench) -> Path:
    return ws.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_odg(
    *args: str,
    workspace: Path | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``odg``: in-process through click's runner (fast), or as the real executable."""
    argv = list(args)
    if workspace is not None:
        argv += ["--workspace", str(workspace)]
    full_env = {"ODG_USER": "cli-tester", **(env or {})}
    if process:
        proc = subprocess.run([ODG, *argv], capture_output=True, text=True, env={**os.environ, **full_env}, timeout=300)
    else:
        from typer.testing import CliRunner

        from odg_workbench.cli import app

        result = CliRunner(env=full_env).invoke(app, argv, catch_exceptions=False)
        proc = subprocess.CompletedProcess(["odg", *argv], result.exit_code, result.stdout, result.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"odg {' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def odg_json(*args: str, workspace: Path | None = None, process: bool = False) -> Any:
    """Run ``odg ... --json`` and parse stdout (which must be exactly one JSON document)."""
    proc = run_odg(*args, "--json", workspace=workspace, process=process)
    return json.loads(proc.stdout)


class IcebergReader:
    """DuckDB with its iceberg extension, set up independently of the workbench's own code."""

    def __init__(self, ext_dir: Path) -> None:
        import duckdb
        from duckdb_extensions import import_extension

        self.con = duckdb.connect(config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False})
        import_extension("avro", con=self.con)
        import_extension("iceberg", con=self.con)
        self.con.execute("LOAD avro")
        self.con.execute("LOAD iceberg")

    def rows(self, metadata_location: str, order_by: str | None = None, columns: str = "*") -> list[tuple[Any, ...]]:
        sql = f"SELECT {columns} FROM iceberg_scan('{metadata_location}')"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return self.con.sql(sql).fetchall()

    def count(self, metadata_location: str) -> int:
        row = self.con.sql(f"SELECT count(*) FROM iceberg_scan('{metadata_location}')").fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def iceberg_reader(tmp_path: Path) -> Iterator[IcebergReader]:
    reader = IcebergReader(tmp_path / "duckdb-ext")
    yield reader
    reader.con.close()


# -- PostgreSQL: a throwaway cluster started by the tests -----------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a real PostgreSQL server started for this test session (trust auth, free port)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("ODG_REQUIRE_SERVERS"):
            pytest.fail("PostgreSQL server binaries are required (ODG_REQUIRE_SERVERS=1) but initdb was not found")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    # Not under pytest's tmp folder: that one is private to the current user (0700), and the
    # server runs as the postgres user when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="odg-test-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(base, 0o755)
    port = free_port()
    subprocess.run(
        _as_pg_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "odg", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    log = base / "pg.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run(
        _as_pg_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            _as_pg_user([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "odg", "odg"]),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://odg@127.0.0.1:{port}/odg"
    finally:
        subprocess.run(
            _as_pg_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def new_pg_database(url: str, name: str) -> str:
    """Create a database on the test server and return its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


# -- S3: moto's S3-compatible server on a free port ---------------------------------------------


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible HTTP endpoint (moto server) with a bucket named ``lake``."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).create_bucket(Bucket="lake")
        yield endpoint
    finally:
        server.stop()
