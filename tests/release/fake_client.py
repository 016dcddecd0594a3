"""The `aws`, `docker` and `cdktf` shims of the release tests: forward the call to FakeTools.

Standard library only and started with `python -S`, so each call costs a bare interpreter start.
Usage (from a shim): fake_client.py TOOL ARGS...; FAKE_TOOLS_URL names the server.
"""

import json
import os
import sys
import urllib.request


def main() -> int:
    tool, args = sys.argv[1], sys.argv[2:]
    stdin = sys.stdin.read() if "--password-stdin" in args else None
    env = {k: v for k, v in os.environ.items() if k.startswith("AWSOMESHOP_") or k == "PATH"}
    body = json.dumps({"tool": tool, "args": args, "stdin": stdin, "env": env}).encode()
    request = urllib.request.Request(os.environ["FAKE_TOOLS_URL"], data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer["stdout"]:
        print(answer["stdout"])
    if answer["stderr"]:
        print(answer["stderr"], file=sys.stderr)
    return int(answer["rc"])


if __name__ == "__main__":
    sys.exit(main())
