"""Edge: ALB, target group, listeners (HTTP only, or HTTPS with a redirect), CloudFront."""

from __future__ import annotations

from infra_helpers import Synth


def test_alb_is_internet_facing_in_public_subnets_with_access_logs(dev: Synth) -> None:
    (alb,) = dev.resources("aws_lb").values()
    assert alb["internal"] is False and alb["load_balancer_type"] == "application"
    public = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "public"
    }
    assert set(alb["subnets"]) == public and len(public) == 2
    assert alb["access_logs"] == {
        "bucket": "${aws_s3_bucket.logs_bucket.bucket}",
        "prefix": "access-logs",
        "enabled": True,
    }
    assert alb["drop_invalid_header_fields"] is True
    (logs_policy,) = [
        n for n, p in dev.resources("aws_s3_bucket_policy").items() if "logs_bucket" in p["bucket"]
    ]
    assert f"aws_s3_bucket_policy.{logs_policy}" in alb["depends_on"]


def test_target_group(dev: Synth) -> None:
    assert dev.has(
        "aws_lb_target_group",
        {
            "target_type": "ip",
            "port": 8000,
            "protocol": "HTTP",
            "deregistration_delay": "30",
            "health_check": {
                "path": "/healthz",
                "interval": 30,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
                "matcher": "200",
            },
        },
    )


def test_without_a_domain_http_forwards_and_there_is_no_certificate(dev: Synth) -> None:
    (listener,) = dev.resources("aws_lb_listener").values()
    (tg,) = dev.resources("aws_lb_target_group")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"] == [
        {"type": "forward", "target_group_arn": f"${{aws_lb_target_group.{tg}.arn}}"}
    ]
    assert not dev.resources("aws_acm_certificate")
    assert not dev.resources("aws_cloudfront_distribution")


def test_with_a_domain_https_serves_and_http_redirects(prod: Synth) -> None:
    listeners = {item["port"]: item for item in prod.resources("aws_lb_listener").values()}
    assert set(listeners) == {80, 443}
    assert listeners[80]["default_action"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
    ]
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    assert https["default_action"][0]["type"] == "forward"
    (validation,) = prod.resources("aws_acm_certificate_validation")
    assert https["certificate_arn"] == f"${{aws_acm_certificate_validation.{validation}.certificate_arn}}"
    (cert,) = prod.resources("aws_acm_certificate").values()
    assert cert["domain_name"] == "awsomeshop.example.com" and cert["validation_method"] == "DNS"


def test_certificate_is_validated_through_route53(prod: Synth) -> None:
    # The mail construct looks the zone up too (test_lifecycle.py).
    (zone,) = [z for n, z in prod.data("aws_route53_zone").items() if n.startswith("edge_")]
    assert zone["name"] == "awsomeshop.example.com"
    records = prod.resources("aws_route53_record").values()
    validation = [r for r in records if "domain_validation_options" in str(r["name"])]
    assert len(validation) == 1 and validation[0]["ttl"] == 60
    alias = [r for r in records if r["name"] == "awsomeshop.example.com"]
    assert len(alias) == 1 and alias[0]["type"] == "A"
    (alb,) = prod.resources("aws_lb")
    assert alias[0]["alias"]["name"] == f"${{aws_lb.{alb}.dns_name}}"


def test_cloudfront_option_fronts_the_alb(options: Synth) -> None:
    (dist,) = options.resources("aws_cloudfront_distribution").values()
    (origin,) = dist["origin"]
    # With a domain, CloudFront reaches the ALB by the certificate's name, over HTTPS only.
    assert origin["domain_name"] == "shop.example.org"
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    behavior = dist["default_cache_behavior"]
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    # Pages are per user: nothing may be cached, and the origin keeps its own Host header.
    assert behavior["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["origin_request_policy_id"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert behavior["response_headers_policy_id"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    (task,) = [t for t in options.resources("aws_ecs_task_definition").values() if "core" in t["family"]]
    assert '"name":"TRUSTED_PROXY_COUNT","value":"2"' in task["container_definitions"].replace(" ", "")
