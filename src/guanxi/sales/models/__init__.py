"""Models of the sales app, one module per capability; each is imported here so Django
(and `from guanxi.sales.models import …`) finds them."""

from guanxi.sales.models.leads import Lead
from guanxi.sales.models.orders import Order, OrderLine
from guanxi.sales.models.pipelines import (
    DEFAULT_NAMES,
    ENGLISH_NAMES,
    PERCENT,
    STAGE_KEY_VALIDATOR,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    display_name,
)

__all__ = [
    "DEFAULT_NAMES",
    "ENGLISH_NAMES",
    "PERCENT",
    "STAGE_KEY_VALIDATOR",
    "Lead",
    "Opportunity",
    "Order",
    "OrderLine",
    "Pipeline",
    "Stage",
    "StageChange",
    "display_name",
]

# forecasts and targets
from guanxi.sales.models.forecasts import (
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSnapshotLine,
    Target,
)

__all__ += ["ForecastAdjustment", "ForecastSnapshot", "ForecastSnapshotLine", "Target"]
