"""The REST API at /api/v1/: one NinjaAPI, each app adds its router."""

from guanxi import __version__
from guanxi.customers.api import router as customers_router
from guanxi.customers.duplicates_api import router as duplicates_router
from guanxi.customers.export_jobs_api import router as export_jobs_router
from guanxi.customers.imports.api import router as imports_router
from guanxi.customers.imports.review_api import router as import_review_router
from guanxi.customers.imports.templates_api import router as import_templates_router
from guanxi.platform.api import router as platform_router
from guanxi.platform.apiframework import create_api
from guanxi.sales.api import router as sales_router
from guanxi.sales.catalogue_api import router as catalogue_router
from guanxi.sales.contact_roles_api import router as contact_roles_router
from guanxi.sales.forecasts_api import router as forecasts_router
from guanxi.sales.lead_routing.api import router as lead_routing_router
from guanxi.sales.leads_api import public_router as web_to_lead_router
from guanxi.sales.leads_api import router as leads_router
from guanxi.sales.metrics_api import router as metrics_router
from guanxi.sales.orders_api import router as orders_router
from guanxi.sales.quotes_api import router as quotes_router
from guanxi.sales.visits_api import router as visits_router
from guanxi.timeline.api import router as timeline_router

api = create_api(
    title="Guanxi API",
    version="1",
    description=(
        "REST API of Guanxi, the open-source CRM. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `guanxi token create` or "
        "POST /api/v1/tokens) or with the web session plus the X-CSRFToken header. Errors are "
        "RFC 9457 problem details with a stable `code`. Lists use cursor pagination. Updates "
        "need the version you read (If-Match or `version`); POSTs accept Idempotency-Key. "
        f"Server {__version__}."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/", web_to_lead_router)  # first: see guanxi.sales.leads_api
api.add_router("/", platform_router)
api.add_router("/", customers_router)
api.add_router("/", duplicates_router)
api.add_router("/", export_jobs_router)
# before the imports router: /imports/templates is not an import id
api.add_router("/", import_templates_router)
api.add_router("/", import_review_router)
api.add_router("/", imports_router)
api.add_router("/", timeline_router)
api.add_router("/", sales_router)
api.add_router("/", orders_router)
api.add_router("/", visits_router)
api.add_router("/", leads_router)
api.add_router("/", catalogue_router)
api.add_router("/", quotes_router)
api.add_router("/", lead_routing_router)
api.add_router("/", contact_roles_router)
api.add_router("/", forecasts_router)
api.add_router("/", metrics_router)
