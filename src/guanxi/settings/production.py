"""Production: secure cookies, HSTS, HTTPS redirect (behind a TLS-terminating proxy)."""

from guanxi.settings.base import *  # noqa: F403
from guanxi.settings.env import env_bool, env_str

# Over plain HTTP on the loopback address (the embedded mode) browsers would drop secure
# cookies; GUANXI_INSECURE_HTTP=true is the explicit way to allow that.
_https = not env_bool("GUANXI_INSECURE_HTTP", False)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and env_bool("GUANXI_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env_str("GUANXI_HSTS_SECONDS", "31536000")) if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Lead routing keeps the rules, teams' members and least-loaded counts it read for this many
# seconds instead of asking before every lead (docs/lead-routing.md): a rule changed in one
# server process reaches the others within them. GUANXI_LEAD_RULES_CACHE_SECONDS=0 asks
# every time, as the embedded mode does.
LEAD_RULES_CACHE_SECONDS = float(env_str("GUANXI_LEAD_RULES_CACHE_SECONDS", "5"))
