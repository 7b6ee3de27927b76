"""The deploy files, checked as far as this machine can: Kubernetes objects against the Kubernetes
schemas (kubernetes-validate, strict), the kustomize rendering (kubectl's built-in kustomize), the
compose file against the Compose Specification's schema, the systemd unit with
`systemd-analyze verify`, and the image's entrypoint and health-check scripts run outside a
container. No Docker engine runs here, so the image itself is not built by these tests.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.32"


def k8s_documents(*files: Path) -> list[dict[str, Any]]:
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def render_kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed: the rendering is not checked")
    out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


# --- Kubernetes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_each_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    for doc in k8s_documents(path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    [_, statefulset] = k8s_documents(K8S / "discord.yaml")
    broken = copy.deepcopy(statefulset)
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": 8080}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_rendered_workloads_probe_secure_and_budget(tmp_path: Path) -> None:
    docs = render_kustomize(K8S)
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert not any(kind == "Secret" for kind, _ in kinds), "the Secret must not be re-applied with the workloads"
    services = {name for kind, name in kinds if kind == "Service"}
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert {w["metadata"]["name"] for w in workloads} == {"careerbot-slack", "careerbot-discord"}
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        [container] = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        named_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, (w["metadata"]["name"], probe)
            assert str(named_ports[get["port"]]) == env["CAREERBOT_HTTP_PORT"], "probes hit the ops port"
        assert any(b["spec"]["selector"]["matchLabels"].items() <= labels.items() for b in budgets), w["metadata"]["name"]
        if w["kind"] == "StatefulSet":
            assert w["spec"]["serviceName"] in services
            assert env["DISCORD_SHARD_COUNT"] == str(w["spec"]["replicas"])
            assert env["CAREERBOT_SHARD_FROM_HOSTNAME"] == "1"
    slack = next(w for w in workloads if w["kind"] == "Deployment")
    assert slack["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == ["--http", "3000"]


def test_shard_count_follows_replicas(tmp_path: Path) -> None:
    copy_dir = tmp_path / "k8s"
    shutil.copytree(K8S, copy_dir)
    discord = copy_dir / "discord.yaml"
    discord.write_text(discord.read_text().replace("  replicas: 2\n", "  replicas: 5\n"))
    [statefulset] = [d for d in render_kustomize(copy_dir) if d["kind"] == "StatefulSet"]
    env = {e["name"]: e["value"] for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert statefulset["spec"]["replicas"] == 5 and env["DISCORD_SHARD_COUNT"] == "5"


# --- compose ---------------------------------------------------------------------------------------

def compose_validator() -> jsonschema.Draft201909Validator:
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
    return jsonschema.Draft201909Validator(schema)


def test_compose_file_follows_the_compose_spec() -> None:
    raw = (DEPLOY / "compose.yaml").read_text()
    doc = yaml.safe_load(raw)
    errors = [e.message for e in compose_validator().iter_errors(doc)]
    assert errors == []
    bot = doc["services"]["bot"]
    assert bot["healthcheck"]["test"] == ["CMD", "python", "/usr/local/bin/careerbot-healthcheck"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "POSTGRES_PASSWORD:-" not in raw and "change-me" not in raw, "no default password"
    assert doc["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    broken = copy.deepcopy(doc)
    broken["services"]["bot"]["healthcheck"]["intervall"] = "30s"
    assert list(compose_validator().iter_errors(broken)), "the schema check must catch a misspelt key"


# --- systemd ---------------------------------------------------------------------------------------

def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit is not verified")
    root = tmp_path / "opt-careerbot"  # the unit's /opt/careerbot, with a real executable in it
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / "data").mkdir()
    (root / ".env").write_text("")
    exe = root / ".venv" / "bin" / "careerbot"
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} -m bot.cli \"$@\"\n")
    exe.chmod(0o755)
    unit = tmp_path / "careerbot.service"
    unit.write_text((DEPLOY / "careerbot.service").read_text().replace("/opt/careerbot", str(root)))
    out = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


# --- the image's files -----------------------------------------------------------------------------

def test_dockerfile_layers_and_runtime() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    build_stage, runtime_stage = text.split("FROM python:3.11-slim AS runtime")
    assert "FROM python:3.11-slim AS build" in build_stage
    # The build stage exports the model and builds the index with torch; the image itself has neither
    # torch nor the build extra, and takes the model export and the index from the build stage.
    assert "torch==" in build_stage and "['build']" in build_stage and "RUN careerbot index build" in build_stage
    assert "torch==" not in runtime_stage and "pip install torch" not in runtime_stage
    assert "['build']" not in runtime_stage and "['postgres']" in runtime_stage
    assert "COPY --from=build /opt/careerbot/model /opt/careerbot/model" in runtime_stage
    assert "COPY --from=build /opt/careerbot/index /opt/careerbot/index" in runtime_stage
    lines = [line.strip() for line in runtime_stage.splitlines()]

    def first(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    assert first("COPY pyproject.toml") < first("RUN python -c \"import tomllib") < first("COPY bot")
    assert first("COPY bot") < first("COPY --from=build")
    assert lines[first("ENTRYPOINT")] == 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/careerbot-entrypoint"]'
    assert "careerbot-healthcheck" in lines[first("CMD [\"python\"") ]
    assert lines[first("USER")] == "USER careerbot"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".git", "data", ".env", "tests"):
        assert entry in ignored


def _entrypoint_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "careerbot"  # what `pip install` puts on PATH in the image
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} -m bot.cli \"$@\"\n")
    exe.chmod(0o755)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "SLACK_", "DISCORD_"))}
    return keep | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
                   "CAREERBOT_DATA_DIR": str(tmp_path / "data")} | extra


def test_entrypoint_takes_the_shard_from_the_pod_name(tmp_path: Path) -> None:
    env = _entrypoint_env(tmp_path, CAREERBOT_SHARD_FROM_HOSTNAME="1", DISCORD_SHARD_COUNT="3",
                          HOSTNAME="careerbot-discord-2")
    out = subprocess.run(["sh", str(DEPLOY / "docker-entrypoint.sh"), "check"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "this process runs shard(s) 2 of 3" in out.stdout
    bad = subprocess.run(["sh", str(DEPLOY / "docker-entrypoint.sh"), "check"], capture_output=True, text=True,
                         env=env | {"HOSTNAME": "careerbot-discord"}, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "careerbot: cannot read a shard number from the host name 'careerbot-discord' (expected NAME-N)"]


def test_entrypoint_execs_so_signals_reach_the_bot(tmp_path: Path) -> None:
    """`exec`: the shell is replaced by careerbot, so tini's SIGTERM goes to the bot, not to a shell."""
    proc = subprocess.Popen(["sh", str(DEPLOY / "docker-entrypoint.sh"), "quiz"], env=_entrypoint_env(tmp_path),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        cmdline = b""
        for _ in range(200):
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            if b"bot.cli" in cmdline:
                break
            time.sleep(0.05)
        assert b"bot.cli\x00quiz" in cmdline, cmdline
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
