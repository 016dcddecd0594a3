"""Edge: ALB, target group, listeners (HTTP only, or HTTPS with a redirect), CloudFront."""

from __future__ import annotations

import json

from infra_helpers import Synth


def test_alb_with_https_is_internet_facing_in_public_subnets_with_access_logs(
    dev: Synth, prod: Synth
) -> None:
    (alb,) = prod.resources("aws_lb").values()
    assert alb["internal"] is False and alb["load_balancer_type"] == "application"
    public = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in prod.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "public"
    }
    assert set(alb["subnets"]) == public and len(public) == 2
    (alb,) = dev.resources("aws_lb").values()
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
    # CloudFront reaches the ALB by its own name (the domain is CloudFront's), over HTTPS only.
    assert origin["domain_name"] == "origin.shop.example.org"
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    behavior = dist["default_cache_behavior"]
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    # Pages are per user: nothing may be cached; the viewer's Host (the domain) reaches the app.
    assert behavior["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["origin_request_policy_id"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"
    assert behavior["response_headers_policy_id"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    (task,) = [t for t in options.resources("aws_ecs_task_definition").values() if "core" in t["family"]]
    assert '"name":"TRUSTED_PROXY_COUNT","value":"2"' in task["container_definitions"].replace(" ", "")


def test_cloudfront_caches_the_hashed_static_files(options: Synth) -> None:
    (dist,) = options.resources("aws_cloudfront_distribution").values()
    (static,) = dist["ordered_cache_behavior"]
    assert static["path_pattern"] == "/static/*"
    assert static["allowed_methods"] == ["GET", "HEAD"]
    # CachingOptimized: the files' own year-long Cache-Control decides (WhiteNoise manifest).
    assert static["cache_policy_id"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert static["target_origin_id"] == dist["default_cache_behavior"]["target_origin_id"]
    assert static["viewer_protocol_policy"] == "redirect-to-https" and static["compress"] is True


def test_with_cloudfront_the_domain_points_at_the_distribution(options: Synth) -> None:
    """Sign-in callbacks, upload CORS and the url output use the domain: it must be CloudFront's."""
    (dist_name, dist) = next(iter(options.resources("aws_cloudfront_distribution").items()))
    assert dist["aliases"] == ["shop.example.org"]
    # A certificate for the domain from us-east-1 (the only region CloudFront takes them from).
    (cert_name,) = [
        name
        for name, c in options.resources("aws_acm_certificate").items()
        if c.get("provider") == "aws.us_east_1"
    ]
    assert options.doc["provider"]["aws"][1] == {
        **options.doc["provider"]["aws"][1],
        "alias": "us_east_1",
        "region": "us-east-1",
    }
    viewer = dist["viewer_certificate"]
    assert viewer["acm_certificate_arn"].startswith("${aws_acm_certificate_validation.")
    assert (viewer["ssl_support_method"], viewer["minimum_protocol_version"]) == ("sni-only", "TLSv1.2_2021")
    records = {
        (r["name"], r["type"]): r["alias"]["name"]
        for r in options.resources("aws_route53_record").values()
        if r.get("alias")
    }
    assert records[("shop.example.org", "A")] == f"${{aws_cloudfront_distribution.{dist_name}.domain_name}}"
    assert (
        records[("shop.example.org", "AAAA")] == f"${{aws_cloudfront_distribution.{dist_name}.domain_name}}"
    )
    # The ALB answers as origin.<domain>; its certificate covers both names (CloudFront checks
    # the forwarded Host, the domain, against it).
    (alb,) = options.resources("aws_lb")
    assert records[("origin.shop.example.org", "A")] == f"${{aws_lb.{alb}.dns_name}}"
    (alb_cert,) = [c for n, c in options.resources("aws_acm_certificate").items() if n != cert_name]
    assert (alb_cert["domain_name"], alb_cert["subject_alternative_names"]) == (
        "shop.example.org",
        ["origin.shop.example.org"],
    )
    # Everything else names the domain: the url output, the callbacks, the upload CORS origin.
    assert options.doc["output"]["url"]["value"] == "https://shop.example.org"
    (cors,) = options.resources("aws_s3_bucket_cors_configuration").values()
    assert cors["cors_rule"][0]["allowed_origins"] == ["https://shop.example.org"]
    callbacks = {
        u
        for c in options.resources("aws_cognito_user_pool_client").values()
        for u in c.get("callback_urls", [])
    }
    assert callbacks == {
        "https://shop.example.org/oidc/callback/",
        "https://shop.example.org/signin/callback/",
    }


def test_cloudfront_option_closes_the_alb_to_everyone_else(options: Synth) -> None:
    # Security group: HTTPS from CloudFront's origin-facing prefix list, nothing else.
    (prefix_list_name, prefix_list) = next(iter(options.data("aws_ec2_managed_prefix_list").items()))
    assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"
    rules = [
        r
        for r in options.resources("aws_vpc_security_group_ingress_rule").values()
        if "alb_sg" in r["security_group_id"]
    ]
    assert [(r["from_port"], r.get("prefix_list_id"), r.get("cidr_ipv4")) for r in rules] == [
        (443, f"${{data.aws_ec2_managed_prefix_list.{prefix_list_name}.id}}", None)
    ]
    # Listener: 403 unless the secret header CloudFront adds is present.
    https = next(item for item in options.resources("aws_lb_listener").values() if item["port"] == 443)
    (default,) = https["default_action"]
    assert default["type"] == "fixed-response" and default["fixed_response"]["status_code"] == "403"
    (rule,) = options.resources("aws_lb_listener_rule").values()
    (condition,) = rule["condition"]
    header = condition["http_header"]
    assert header["http_header_name"] == "X-Origin-Verify"
    assert rule["action"][0]["type"] == "forward"
    (dist,) = options.resources("aws_cloudfront_distribution").values()
    (origin,) = dist["origin"]
    assert origin["custom_header"] == [{"name": "X-Origin-Verify", "value": header["values"][0]}]
    assert header["values"][0].startswith("${data.aws_secretsmanager_secret_version.")
    # The header value is generated inside AWS, never by a data source that changes every plan.
    assert "origin_verify" in options.doc["ephemeral"]["aws_secretsmanager_random_password"]


def test_proxy_count_and_csrf_origins_per_topology(prod: Synth, options: Synth) -> None:
    def env(synth: Synth) -> dict[str, str]:
        (task,) = [t for t in synth.resources("aws_ecs_task_definition").values() if "core" in t["family"]]
        (container,) = json.loads(task["container_definitions"])
        return {item["name"]: item["value"] for item in container["environment"]}

    assert env(prod)["TRUSTED_PROXY_COUNT"] == "1"
    # Without CloudFront the browser's origin is the domain itself, which production settings
    # trust from APP_DOMAIN; the stack adds no second list of origins.
    assert env(prod)["APP_DOMAIN"] == "awsomeshop.example.com"
    assert "CSRF_TRUSTED_ORIGINS" not in env(prod)
    assert env(options)["TRUSTED_PROXY_COUNT"] == "2"
    # Behind CloudFront browsers use the domain too (it points at the distribution, which
    # forwards it as the Host): one origin, nothing extra to trust.
    assert env(options)["APP_DOMAIN"] == "shop.example.org"
    assert "CSRF_TRUSTED_ORIGINS" not in env(options)


def test_behind_cloudfront_the_service_waits_for_the_forwarding_rule(options: Synth) -> None:
    # ECS refuses a target group no listener or rule forwards to; the listener only answers 403.
    (rule,) = options.resources("aws_lb_listener_rule")
    (service,) = [s for s in options.resources("aws_ecs_service").values() if s.get("load_balancer")]
    assert service["name"] == "awsomeshop-core-service-dev"
    assert f"aws_lb_listener_rule.{rule}" in service["depends_on"]
