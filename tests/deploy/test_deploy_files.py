"""The deployment files hold what the checklist promises; what can run here (nginx -t, systemd-analyze,
bash -n) runs for real. There is no Docker engine in CI, so the Dockerfile and compose file are checked as text."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from community.settings import ROOT

DEPLOY = ROOT / "deploy"


def _stages(dockerfile: str) -> dict[str, str]:
    """Dockerfile stages by name -> their text."""
    parts = re.split(r"^FROM\s+", dockerfile, flags=re.M)
    stages = {}
    for part in parts[1:]:
        first = part.splitlines()[0]
        name = first.split(" AS ")[-1].strip() if " AS " in first else first
        stages[name] = "FROM " + part
    return stages


def test_dockerfile_is_multi_stage_slim_and_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = _stages(text)
    assert {"builder", "web", "app"} <= set(stages)
    assert list(stages)[-1] == "app", "the app must be the default (last) target"
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    app = stages["app"]
    assert "COPY --from=builder /opt/venv /opt/venv" in app
    assert "build-essential" not in app and "apt-get" not in app and "gcc" not in app
    assert re.search(r"^USER community", app, flags=re.M)
    assert "PRODUCTION=1" in app
    assert "HEALTHCHECK" in app and "/healthz" in app
    assert "build-essential" in stages["builder"] and "pip wheel" in stages["builder"]
    entry = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert 'community serve --no-bootstrap --workers "${WORKERS:-4}"' in entry
    assert "COPY static /srv/static" in stages["web"]


def test_compose_wires_db_migrate_app_and_nginx():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    db = services["db"]
    major = int(re.search(r"postgres:(\d+)", db["image"]).group(1))
    assert major >= 16
    assert "healthcheck" in db and any(v.split(":")[0] in compose["volumes"] for v in db["volumes"])
    migrate = services["migrate"]
    assert "community migrate" in " ".join(migrate["command"]) and "community seed" in " ".join(migrate["command"])
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["environment"]["PRODUCTION"] == "1" and "WORKERS" in app["environment"]
    assert "ports" not in app, "only nginx is published"
    nginx = services["nginx"]
    assert nginx["build"]["target"] == "web"
    assert {"80:80", "443:443"} <= set(nginx["ports"])
    assert {"app", "realtime"} <= set(nginx["depends_on"])


def test_live_room_sockets_have_processes_of_their_own():
    """compose runs the sockets as `realtime` (the app's image, settings and hardening; never published), and
    nginx sends /rooms/{id}/ws there and every page to `app`."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    app, realtime = services["app"], services["realtime"]
    for key in ("image", "env_file", "depends_on", "read_only", "cap_drop", "security_opt", "stop_signal",
                "stop_grace_period", "expose"):
        assert realtime[key] == app[key], key
    assert "command" not in realtime, "the image's default command: community serve"
    assert {k: v for k, v in realtime["environment"].items() if k != "WORKERS"} == \
        {k: v for k, v in app["environment"].items() if k != "WORKERS"}
    assert "ports" not in realtime, "only nginx is published"
    for name in ("nginx.conf", "nginx.conf.template"):
        text = (DEPLOY / name).read_text()
        upstreams = dict(re.findall(r"^\s*upstream (\w+) \{(.*?)\}", text, flags=re.M | re.S))
        assert set(upstreams) == {"community", "community_sockets"}, name
        sockets = re.findall(r"location ~ \^/rooms/\[\^/\]\+/ws\$ \{[^}]*proxy_pass http://(\w+);", text)
        assert sockets == ["community_sockets"], name
        assert set(re.findall(r"proxy_pass http://(\w+);", text)) == {"community", "community_sockets"}, name
        if name == "nginx.conf":
            assert re.findall(r"^\s*server (\S+):8000", upstreams["community"], flags=re.M) == ["app"]
            assert re.findall(r"^\s*server (\S+):8000", upstreams["community_sockets"], flags=re.M) == ["realtime"]


def test_env_example_lists_every_configuration_variable():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert {"DATABASE_URL", "SECRET_KEY", "ANON_KEY", "BASE_URL"} <= names
    example = (DEPLOY / "community.env.example").read_text()
    missing = sorted(n for n in names if not re.search(rf"^#?\s*{n}=", example, flags=re.M))
    assert not missing, f"deploy/community.env.example lacks {missing}"


def test_shell_scripts_parse():
    for name in ("backup.sh", "restore.sh", "docker-entrypoint.sh"):
        subprocess.run(["bash", "-n", str(DEPLOY / name)], check=True, timeout=10)


def test_systemd_units_are_hardened_and_valid(tmp_path: Path):
    unit = (DEPLOY / "community.service").read_text()
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/srv/community/var",
                 "PrivateTmp=yes", "User=community", "KillSignal=SIGTERM", "TimeoutStopSec="):
        assert line in unit
    assert "community housekeeping" in (DEPLOY / "community-housekeeping.service").read_text()
    assert "OnCalendar=" in (DEPLOY / "community-housekeeping.timer").read_text()
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    names = ["community.service", "community-housekeeping.service", "community-housekeeping.timer"]
    for name in names:  # the venv path does not exist here: point ExecStart at a real binary
        text = (DEPLOY / name).read_text().replace("/srv/community/.venv/bin/community", "/bin/true")
        (tmp_path / name).write_text(text)
    result = subprocess.run([analyze, "verify", *[str(tmp_path / n) for n in names]], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10).stderr
    return tuple(int(x) for x in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())


def test_production_nginx_conf_passes_nginx_t(nginx_binary: str, tmp_path: Path):
    """deploy/nginx.conf as shipped, with only host-specific paths swapped: upstream host, certificate, pid."""
    text = (DEPLOY / "nginx.conf").read_text()
    for needle in ("map $http_upgrade $connection_upgrade", "proxy_read_timeout 3600s", "gzip on;",
                   "return 301 https://", "location /static/", "location = /healthz", "ssl_certificate "):
        assert needle in text
    cert, key = _self_signed(tmp_path)
    text = (text.replace("server app:8000", "server 127.0.0.1:9").replace("server realtime:8000", "server 127.0.0.1:10")
            .replace("/etc/nginx/tls/fullchain.pem", str(cert)).replace("/etc/nginx/tls/privkey.pem", str(key))
            .replace("pid /var/run/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
            .replace("user nginx;", "user root;" if Path("/etc/passwd").read_text().find("\nnginx:") < 0
                     else "user nginx;"))
    if _nginx_version(nginx_binary) < (1, 25, 1):  # `http2 on;` is newer than Debian 12's nginx
        text = text.replace("http2 on;", "")
    if not Path("/etc/nginx/mime.types").exists():
        pytest.skip("no /etc/nginx/mime.types to include")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run([nginx_binary, "-t", "-p", str(tmp_path), "-c", str(conf), "-e",
                             str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
