"""Safe defaults and process supervision of `omniroute serve`: loopback unless told
otherwise, no orphaned workers, no sharing a port with another server."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from omniroute.server.launch import serve_process
from omniroute.server.process import check_exposure, free_port, is_loopback


def listening_addresses(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Local addresses with a listener on ``port`` (IPv4 ones mapped into IPv6 unmapped)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = b"".join(
                    bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8)
                )  # /proc/net shows each 32-bit word in host (little-endian) order
                ip = ipaddress.ip_address(raw)
                mapped = getattr(ip, "ipv4_mapped", None)
                found.add(mapped or ip)
    return found


def children_of(pid: int) -> list[int]:
    result = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                result.append(int(entry.name))
    return result


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_loopback_is_recognised() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "::1", "[::1]", "localhost", "127.8.0.1"]))
    assert not any(map(is_loopback, ["0.0.0.0", "[::]", "10.0.0.4", "example.com"]))
    check_exposure("127.0.0.1", secured=False, insecure=False)
    check_exposure("0.0.0.0", secured=False, insecure=True)


def test_serve_listens_on_loopback_only_by_default(tmp_path: Path, data_dir: Path) -> None:
    metrics = free_port()
    db, network = str(tmp_path / "x.db"), str(data_dir / "tiny_network.json")
    with serve_process(
        "--db", db, "--network", network, "--workers", "2", "--metrics-port", str(metrics)
    ) as (_, port):
        loopback = {ipaddress.ip_address("127.0.0.1")}
        assert listening_addresses(port) == loopback  # nothing else
        assert listening_addresses(metrics) == loopback


def test_serving_other_hosts_needs_insecure(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "x.db"
    command = [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", str(db)]
    command += ["--network", str(data_dir / "tiny_network.json"), "--host", "0.0.0.0"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "--insecure" in refused.stderr and "Traceback" not in refused.stderr
    assert not db.exists()  # refused before anything was imported


def test_a_taken_port_is_refused_and_leaves_nothing_running(tmp_path: Path, data_dir: Path) -> None:
    db, network = str(tmp_path / "x.db"), str(data_dir / "tiny_network.json")
    with serve_process("--db", db, "--network", network, "--workers", "2") as (_, port):
        for args in (["--port", str(port)], ["--port", "0", "--metrics-port", str(port)]):
            command = [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", db]
            second = subprocess.Popen(
                [*command, "--workers", "2", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, err = second.communicate(timeout=60)
            assert second.returncode == 2, err
            assert f"port {port}" in err and "not available" in err
            assert children_of(second.pid) == []


def test_workers_exit_when_serve_is_killed(tmp_path: Path, data_dir: Path) -> None:
    """SIGKILL of the serve process (no chance to stop its workers): they notice and exit,
    and the port is free again within 5 s."""
    db, network = str(tmp_path / "x.db"), str(data_dir / "tiny_network.json")
    with serve_process("--db", db, "--network", network, "--workers", "2") as (process, port):
        workers = children_of(process.pid)
        assert workers
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(alive, workers))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # nobody listens there any more


def test_sigterm_while_workers_start_is_a_clean_stop(tmp_path: Path, data_dir: Path) -> None:
    """SIGTERM before every worker is up (a deploy that changes its mind, a test that stops a
    server as soon as one worker answers) stops them all and exits 0, not 'failed to start'."""
    db, network = str(tmp_path / "x.db"), str(data_dir / "tiny_network.json")
    command = [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", db]
    command += ["--network", network, "--workers", "2", "--port", str(free_port())]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not children_of(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = children_of(process.pid)
        assert workers, "serve started no workers"
        process.send_signal(signal.SIGTERM)  # the workers are still importing
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "failed to start" not in err
    deadline = time.monotonic() + 5.0  # multiprocessing's resource tracker leaves last
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers))


def test_workers_exit_when_serve_is_killed_while_they_start(tmp_path: Path, data_dir: Path) -> None:
    """SIGKILL of serve while its workers are still importing: they do not live on as
    orphans (each knows its supervisor from its spawn, not from a later getppid())."""
    db, network = str(tmp_path / "x.db"), str(data_dir / "tiny_network.json")
    command = [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", db]
    command += ["--network", network, "--workers", "2", "--port", str(free_port())]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(children_of(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = children_of(process.pid)
        assert workers, "serve started no workers"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 30  # time for a slow machine to finish importing
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left
    finally:
        process.kill()
