"""Shutdown is aligned end to end: ALB draining, then SIGTERM, then gunicorn's graceful stop,
all before ECS's SIGKILL. The gunicorn side is read from gunicorn.conf.py and the image's command."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from infra_helpers import Synth

ROOT = Path(__file__).resolve().parents[2]


def _gunicorn_settings() -> dict[str, object]:
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        if isinstance(node.value, ast.Constant)
    }


def test_gunicorn_finishes_in_flight_requests_before_ecs_kills_the_task(dev: Synth, prod: Synth) -> None:
    gunicorn = _gunicorn_settings()
    for synth in (dev, prod):
        (task,) = [
            t for t in synth.resources("aws_ecs_task_definition").values() if "core-task" in t["family"]
        ]
        (container,) = json.loads(task["container_definitions"])
        (target_group,) = synth.resources("aws_lb_target_group").values()
        stop_timeout = container["stopTimeout"]
        # SIGKILL comes stop_timeout after SIGTERM: the graceful stop must end first, with margin.
        assert gunicorn["graceful_timeout"] + 5 <= stop_timeout <= 120  # type: ignore[operator]
        # ECS sends SIGTERM only after draining; draining must outlast any request the ALB sent.
        assert int(target_group["deregistration_delay"]) >= gunicorn["timeout"]  # type: ignore[operator]


def test_the_image_command_does_not_override_the_timeouts() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (command,) = re.findall(r"^CMD (.+)$", dockerfile, flags=re.MULTILINE)
    args = json.loads(command)
    assert args[args.index("--config") + 1] == "gunicorn.conf.py"
    assert not {"--timeout", "-t", "--graceful-timeout", "--keep-alive"} & set(args)
