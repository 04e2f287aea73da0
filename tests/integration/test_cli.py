"""The `sonantica` command as a user runs it: real processes, real data folders."""

import json
import os
import signal
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.support.audio import make_track

SONANTICA = [sys.executable, "-m", "sonantica.node.cli"]


def run(data, *args, input=None, check=True):
    proc = subprocess.run([*SONANTICA, "--data", str(data), *args], input=input, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"sonantica {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


@pytest.fixture
def node(tmp_path, music):
    make_track(music / "Ana/Rec/01 - One.flac", "flac", {"title": "One", "artist": "Ana", "album": "Rec"})
    data = tmp_path / "data"
    run(data, "init", "--music", str(music), "--name", "Test node")
    return data


def test_init_creates_config_db_and_private_key(node):
    assert (node / "config.toml").exists() and (node / "sonantica.db").exists()
    assert os.stat(node / "node.key").st_mode & 0o777 == 0o600
    assert os.stat(node / "node.key").st_size == 32


def test_init_twice_is_an_error_and_changes_nothing(node, music):
    key = (node / "node.key").read_bytes()
    proc = run(node, "init", "--music", str(music), check=False)
    assert proc.returncode != 0
    assert "already exists" in proc.stderr and proc.stderr.count("\n") == 1
    assert (node / "node.key").read_bytes() == key


def test_errors_are_one_line(tmp_path):
    proc = run(tmp_path / "nothing", "scan", check=False)
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and "init" in proc.stderr
    proc = run(tmp_path / "x", "init", "--music", str(tmp_path / "missing"), check=False)
    assert proc.returncode != 0 and "does not exist" in proc.stderr


def test_sonantica_data_env(tmp_path, music):
    env = {**os.environ, "SONANTICA_DATA": str(tmp_path / "envdata")}
    subprocess.run([*SONANTICA, "init", "--music", str(music)], env=env, check=True, capture_output=True)
    assert (tmp_path / "envdata/config.toml").exists()


def test_scan_json_and_status(node):
    out = run(node, "scan", "--json").stdout.strip().splitlines()
    assert len(out) == 1
    summary = json.loads(out[0])
    assert {k: summary[k] for k in ("seen", "added", "updated", "removed", "unchanged", "errors")} == {
        "seen": 1, "added": 1, "updated": 0, "removed": 0, "unchanged": 0, "errors": 0}
    assert summary["seconds"] >= 0
    status = json.loads(run(node, "status", "--json").stdout)
    assert status["library"]["tracks"] == 1 and status["name"] == "Test node" and not status["serving"]


def test_users(node):
    run(node, "user", "add", "ana", "--password-stdin", input="correct horse\n")
    run(node, "user", "add", "bo", "--admin", "--password-stdin", input="battery staple\n")
    run(node, "user", "add", "cy", "--password-stdin", input="stapler stapler\n")
    assert run(node, "user", "list").stdout.split("\n")[:3] == ["ana\towner", "bo\tadmin", "cy\tlistener"]
    short = run(node, "user", "add", "dee", "--password-stdin", input="short\n", check=False)
    assert short.returncode != 0 and "too short" in short.stderr
    dup = run(node, "user", "add", "ana", "--password-stdin", input="whatever123\n", check=False)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    run(node, "user", "passwd", "cy", "--password-stdin", input="a new password\n")
    last_owner = run(node, "user", "remove", "ana", check=False)
    assert last_owner.returncode != 0 and "only owner" in last_owner.stderr
    run(node, "user", "remove", "cy")
    assert "cy" not in run(node, "user", "list").stdout
    missing = run(node, "user", "remove", "zed", check=False)
    assert missing.returncode != 0 and "no user named" in missing.stderr


def test_password_never_stored_in_clear(node):
    run(node, "user", "add", "ana", "--password-stdin", input="very secret words\n")
    assert b"very secret words" not in (node / "sonantica.db").read_bytes()


def test_backup_and_restore_round_trip(node, tmp_path):
    run(node, "scan")
    run(node, "user", "add", "ana", "--password-stdin", input="correct horse\n")
    backup = tmp_path / "backup.tar.gz"
    run(node, "backup", str(backup))
    with tarfile.open(backup) as tar:
        assert set(tar.getnames()) == {"config.toml", "node.key", "sonantica.db"}
    other = tmp_path / "restored"
    run(other, "restore", str(backup))
    assert (other / "node.key").read_bytes() == (node / "node.key").read_bytes()
    assert os.stat(other / "node.key").st_mode & 0o777 == 0o600
    status = json.loads(run(other, "status", "--json").stdout)
    assert status["library"]["tracks"] == 1 and status["users"] == 1


def test_restore_rejects_a_non_backup(node, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    proc = run(node, "restore", str(bogus), check=False)
    assert proc.returncode != 0 and "not a Sonántica backup" in proc.stderr
    assert (node / "node.key").stat().st_size == 32


def test_kill_9_during_scan_loses_nothing(tmp_path, music):
    seed = make_track(music / "seed.flac", "flac", {"title": "seed", "artist": "A", "album": "B"})
    for i in range(3000):
        (music / f"d{i // 100}").mkdir(exist_ok=True)
        shutil.copyfile(seed, music / f"d{i // 100}/{i:04}.flac")
    data = tmp_path / "data"
    run(data, "init", "--music", str(music))
    proc = subprocess.Popen([*SONANTICA, "--data", str(data), "scan", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import sqlite3

    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = sqlite3.connect(data / "sonantica.db", timeout=5)
            committed = conn.execute("SELECT count(*) FROM track").fetchone()[0]
            conn.close()
        except sqlite3.Error:
            committed = 0
        if committed > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    summary = json.loads(run(data, "scan", "--json").stdout)
    assert summary["seen"] == 3001
    assert summary["unchanged"] >= committed if committed < 3001 else True
    status = json.loads(run(data, "status", "--json").stdout)
    assert status["library"]["tracks"] == 3001 and status["library"]["errors"] == 0
    assert status["last_scan"]["finished_at"]


def test_two_scans_at_once_do_no_double_work(node, music):
    for i in range(50):
        make_track(music / f"more/{i}.flac", "flac", {"title": f"m{i}"}, seed=i)
    a = subprocess.Popen([*SONANTICA, "--data", str(node), "scan", "--json"], stdout=subprocess.PIPE, text=True)
    b = subprocess.Popen([*SONANTICA, "--data", str(node), "scan", "--json"], stdout=subprocess.PIPE, text=True)
    ra, rb = json.loads(a.communicate(timeout=120)[0]), json.loads(b.communicate(timeout=120)[0])
    assert ra["added"] + rb["added"] == 51
    assert json.loads(run(node, "status", "--json").stdout)["library"]["tracks"] == 51
