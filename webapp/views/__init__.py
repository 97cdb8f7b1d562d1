"""Page blueprints."""
from flask import Flask


def register(app: Flask) -> None:
    from .auth import bp as auth_bp
    from .classify import bp as classify_bp
    from .monitors import bp as monitors_bp
    from .vendor import bp as vendor_bp

    for bp in (auth_bp, monitors_bp, classify_bp, vendor_bp):
        app.register_blueprint(bp)
    from .scorers import bp as scorers_bp
    app.register_blueprint(scorers_bp)
    from .alerts import bp as alerts_bp
    app.register_blueprint(alerts_bp)
    from .backfill import bp as backfill_bp
    from .monitor_edit import bp as monitor_edit_bp
    app.register_blueprint(backfill_bp)
    app.register_blueprint(monitor_edit_bp)
    from .admin import bp as admin_bp
    app.register_blueprint(admin_bp)
    from .metrics import bp as metrics_bp
    app.register_blueprint(metrics_bp)
    from .admin_people import account_bp
    app.register_blueprint(account_bp)
    from .compare import bp as compare_bp
    app.register_blueprint(compare_bp)
    from .mention_tools import bp as mention_tools_bp
    app.register_blueprint(mention_tools_bp)
