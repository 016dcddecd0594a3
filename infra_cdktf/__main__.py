"""`python -m infra_cdktf` (and `cdktf synth`, through cdktf.json) writes cdktf.out/."""

from infra_cdktf.app import build_app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
