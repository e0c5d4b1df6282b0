"""Models of the sales app, one module per capability; each is imported here so Django
(and `from guanxi.sales.models import …`) finds them."""

from guanxi.sales.models.catalogue import DEFAULT_TAX_RATE, PriceBook, PriceBookEntry, Product
from guanxi.sales.models.forecasts import (
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSnapshotLine,
    Target,
)
from guanxi.sales.models.leads import Lead
from guanxi.sales.models.orders import Order, OrderLine
from guanxi.sales.models.pipelines import (
    DEFAULT_NAMES,
    ENGLISH_NAMES,
    PERCENT,
    STAGE_KEY_VALIDATOR,
    Opportunity,
    OpportunityTotal,
    Pipeline,
    Stage,
    StageChange,
    display_name,
)
from guanxi.sales.models.quotes import (
    DiscountLimit,
    OpportunityLine,
    Quote,
    QuoteCounter,
    QuoteLine,
)
from guanxi.sales.models.roles import OpportunityContactRole
from guanxi.sales.models.routing import (
    AssignmentPointer,
    AssignmentRule,
    LeadResponse,
    LeadRoutingSettings,
    ScoringRule,
    SlaPolicy,
)
from guanxi.sales.models.visits import VisitCheckIn, VisitOutcome
from guanxi.sales.models.web_to_lead import WebToLeadSettings

__all__ = [
    "DEFAULT_NAMES",
    "DEFAULT_TAX_RATE",
    "ENGLISH_NAMES",
    "PERCENT",
    "STAGE_KEY_VALIDATOR",
    "AssignmentPointer",
    "AssignmentRule",
    "DiscountLimit",
    "ForecastAdjustment",
    "ForecastSnapshot",
    "ForecastSnapshotLine",
    "Lead",
    "LeadResponse",
    "LeadRoutingSettings",
    "Opportunity",
    "OpportunityContactRole",
    "OpportunityLine",
    "OpportunityTotal",
    "Order",
    "OrderLine",
    "Pipeline",
    "PriceBook",
    "PriceBookEntry",
    "Product",
    "Quote",
    "QuoteCounter",
    "QuoteLine",
    "ScoringRule",
    "SlaPolicy",
    "Stage",
    "StageChange",
    "Target",
    "VisitCheckIn",
    "VisitOutcome",
    "WebToLeadSettings",
    "display_name",
]
