"""Scaling: the design's step rules on CPU and memory, and target tracking on ALB requests."""

from __future__ import annotations

from typing import Any

from infra_helpers import Synth


def _policies(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        p["name"].removeprefix("awsomeshop-").removesuffix("-dev"): p
        for p in synth.resources("aws_appautoscaling_policy").values()
    }


def _alarm(synth: Synth, name: str) -> dict[str, Any]:
    return synth.named("aws_cloudwatch_metric_alarm", "alarm_name", name)[1]


def test_target_is_the_service_from_two_to_ten_tasks(dev: Synth) -> None:
    (target,) = dev.resources("aws_appautoscaling_target").values()
    assert (target["min_capacity"], target["max_capacity"]) == (2, 10)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"


def test_step_policies_add_or_remove_one_task_300_s_apart(dev: Synth) -> None:
    policies = _policies(dev)
    assert set(policies) == {"scale-out", "scale-in", "requests-target-tracking"}
    for key, change in (("scale-out", 1), ("scale-in", -1)):
        config = policies[key]["step_scaling_policy_configuration"]
        assert policies[key]["policy_type"] == "StepScaling"
        assert config["adjustment_type"] == "ChangeInCapacity" and config["cooldown"] == 300
        assert config["step_adjustment"] == [
            {"metric_interval_lower_bound": "0", "scaling_adjustment": change}
        ]


def _queries(alarm: dict[str, Any]) -> tuple[str, dict[str, tuple[str, str, str]]]:
    (rule,) = [q for q in alarm["metric_query"] if q.get("return_data")]
    metrics = {
        q["id"]: (q["metric"]["namespace"], q["metric"]["metric_name"], q["metric"]["stat"])
        for q in alarm["metric_query"]
        if "metric" in q
    }
    assert all(q["metric"]["period"] == 60 for q in alarm["metric_query"] if "metric" in q)
    return rule["expression"], metrics


def test_scale_out_when_cpu_over_70_or_memory_over_80_for_two_minutes(dev: Synth) -> None:
    alarm = _alarm(dev, "awsomeshop-scale-out-rule-dev")
    expression, metrics = _queries(alarm)
    assert expression == "IF(cpu > 70 OR mem > 80, 1, 0)"
    assert metrics == {
        "cpu": ("AWS/ECS", "CPUUtilization", "Average"),
        "mem": ("AWS/ECS", "MemoryUtilization", "Average"),
    }
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (2, 2)
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    (policy,) = [
        n
        for n, p in dev.resources("aws_appautoscaling_policy").items()
        if p["name"].endswith("scale-out-dev")
    ]
    assert alarm["alarm_actions"] == [f"${{aws_appautoscaling_policy.{policy}.arn}}"]


def test_scale_in_when_cpu_under_30_and_memory_under_50_and_requests_low_for_five_minutes(dev: Synth) -> None:
    alarm = _alarm(dev, "awsomeshop-scale-in-rule-dev")
    expression, metrics = _queries(alarm)
    assert expression == "IF(cpu < 30 AND mem < 50 AND FILL(req, 0) < 300, 1, 0)"
    assert metrics["req"] == ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum")
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (5, 5)
    (policy,) = [
        n for n, p in dev.resources("aws_appautoscaling_policy").items() if p["name"].endswith("scale-in-dev")
    ]
    assert alarm["alarm_actions"] == [f"${{aws_appautoscaling_policy.{policy}.arn}}"]


def test_requests_per_target_scale_out_only(dev: Synth) -> None:
    policy = _policies(dev)["requests-target-tracking"]
    config = policy["target_tracking_scaling_policy_configuration"]
    spec = config["predefined_metric_specification"]
    assert spec["predefined_metric_type"] == "ALBRequestCountPerTarget"
    (alb,) = dev.resources("aws_lb")
    (tg,) = dev.resources("aws_lb_target_group")
    assert spec["resource_label"] == f"${{aws_lb.{alb}.arn_suffix}}/${{aws_lb_target_group.{tg}.arn_suffix}}"
    assert config["target_value"] == 600
    # Scale-in is the step rule's, which also waits for requests to fall: no tug of war.
    assert config["disable_scale_in"] is True
