"""The design documents' architecture (FastAPI, uvicorn, async SQLAlchemy) as a benchmark peer.

Never shipped and never imported by the application: `bench/http/peer.py` starts it with its
own virtualenv (`bench/peers/setup.sh`) against the tables the Django app created. See
`bench/peers/README.md` for what it does and does not do compared with the product.
"""
