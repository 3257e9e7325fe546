"""``GET /healthz`` for load balancers and uptime checks: 503 when the store is gone."""
from flask import Blueprint, current_app

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if current_app.extensions["helpline"].store.ping():
        return {"status": "ok"}, 200
    return {"status": "database unavailable"}, 503
