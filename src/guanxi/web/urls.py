from django.contrib.auth import views as auth_views
from django.urls import path, re_path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.web import (
    activities,
    calendar,
    customer_lists,
    customers,
    duplicates,
    exports,
    imports,
    lead_rules,
    leads,
    notifications,
    quicklog,
    setup,
    views,
)

app_name = "web"
KIND = r"(?P<kind>contacts|accounts)"
ID = r"(?P<public_id>[a-z]+_[0-9a-z]{26})"


def settings_path(route: str, view, name: str):
    return re_path(rf"^settings/{route}$", view, name=f"settings_{name}" if name else "settings")


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", views.set_language, name="set_language"),
    path("workspace/", views.switch_workspace, name="switch_workspace"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="web/password_form.html",
            success_url=reverse_lazy("web:password_change_done"),
            extra_context={"heading": _("Change your password")},
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="web/message.html",
            extra_context={
                "heading": _("Password changed"),
                "message": _("Your password has been changed."),
            },
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="web/password_form.html",
            email_template_name="web/password_reset_email.txt",
            subject_template_name="web/password_reset_subject.txt",
            success_url=reverse_lazy("web:password_reset_done"),
            extra_context={
                "heading": _("Reset your password"),
                "intro": _(
                    "Enter the e-mail address of your account; we send a link to set a new password."
                ),
            },
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="web/message.html",
            extra_context={
                "heading": _("Check your e-mail"),
                "message": _(
                    "If an account uses that address, a link to set a new password is on its way."
                ),
            },
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="web/password_form.html",
            success_url=reverse_lazy("web:password_reset_complete"),
            extra_context={"heading": _("Choose a new password")},
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/message.html",
            extra_context={
                "heading": _("Password set"),
                "message": _("Your new password is set. You can sign in with it now."),
            },
        ),
        name="password_reset_complete",
    ),
    settings_path("", setup.settings_home, ""),
    settings_path("users/", setup.users, "users"),
    settings_path(f"users/{ID}/", setup.user_edit, "user"),
    settings_path(f"users/{ID}/remove/", setup.user_remove, "user_remove"),
    settings_path("tree/", setup.manager_tree, "tree"),
    settings_path("teams/", setup.teams, "teams"),
    settings_path(f"teams/{ID}/", setup.team_edit, "team"),
    settings_path(f"teams/{ID}/delete/", setup.team_delete, "team_delete"),
    settings_path("roles/", setup.roles, "roles"),
    settings_path(f"roles/{ID}/", setup.role_edit, "role"),
    settings_path("fields/", setup.fields, "fields"),
    settings_path(f"fields/{ID}/", setup.field_edit, "field"),
    settings_path(f"fields/{ID}/delete/", setup.field_delete, "field_delete"),
    settings_path("stages/", setup.stages, "stages"),
    settings_path(f"stages/{ID}/", setup.stage_edit, "stage"),
    settings_path(f"stages/{ID}/delete/", setup.stage_delete, "stage_delete"),
    settings_path("duplicates/", setup.duplicate_rules, "duplicates"),
    settings_path("tokens/", setup.tokens, "tokens"),
    settings_path(f"tokens/{ID}/revoke/", setup.token_revoke, "token_revoke"),
    settings_path("audit/", setup.audit, "audit"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/badge/", notifications.badge, name="notifications_badge"),
    path("notifications/read/", notifications.mark_all_read, name="notifications_read"),
    re_path(
        r"^notifications/(?P<public_id>ntf_[0-9a-z]{26})/$",
        notifications.open_notification,
        name="notification_open",
    ),
    path("exports/", exports.export_list, name="export_list"),
    re_path(
        r"^exports/(?P<public_id>exp_[0-9a-z]{26})/download/$",
        exports.export_download,
        name="export_download",
    ),
    path("imports/", imports.import_list, name="import_list"),
    re_path(
        r"^imports/templates/(?P<public_id>imt_[0-9a-z]{26})/$",
        imports.template_change,
        name="import_template",
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/$", imports.import_detail, name="import_detail"
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/progress/$",
        imports.import_progress,
        name="import_progress",
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/resume/$",
        imports.import_resume,
        name="import_resume",
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/undo/$", imports.import_undo, name="import_undo"
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/review/(?P<line>[0-9]+)/$",
        imports.import_review,
        name="import_review",
    ),
    re_path(
        r"^imports/(?P<public_id>imp_[0-9a-z]{26})/errors/$",
        imports.import_errors,
        name="import_errors",
    ),
    path("log/", quicklog.quick_log, name="quick_log"),
    path("log/customers/", quicklog.customer_choices, name="quick_log_customers"),
    path("search/", customers.search_page, name="search"),
    path("duplicates/", customers.possible_duplicates, name="possible_duplicates"),
    path("duplicates/review/", duplicates.review, name="duplicate_review"),
    path("duplicates/review/status/", duplicates.scan_status, name="duplicate_scan_status"),
    path("duplicates/review/scan/", duplicates.start_scan, name="duplicate_scan"),
    re_path(
        r"^duplicates/review/(?P<public_id>dup_[0-9a-z]{26})/reject/$",
        duplicates.reject,
        name="duplicate_reject",
    ),
    path("contacts/merge/", duplicates.merge_contacts, name="merge_contacts"),
    re_path(
        r"^merges/(?P<public_id>mrg_[0-9a-z]{26})/$", duplicates.merge_detail, name="merge_detail"
    ),
    re_path(
        r"^merges/(?P<public_id>mrg_[0-9a-z]{26})/undo/$", duplicates.merge_undo, name="merge_undo"
    ),
    path("activities/", activities.activity_list, name="activity_list"),
    path("activities/week/", activities.activity_week, name="activity_week"),
    path("activities/day/", activities.activity_day, name="activity_day"),
    path("activities/calendar/", calendar.create_feed_link, name="activity_feed_link"),
    re_path(
        r"^calendar/(?P<secret>cal_[A-Za-z0-9_-]{20,64})\.ics$",
        calendar.activity_feed,
        name="activity_feed",
    ),
    re_path(
        r"^activities/(?P<public_id>act_[0-9a-z]{26})/complete/$",
        activities.activity_complete,
        name="activity_complete",
    ),
    re_path(rf"^{KIND}/{ID}/activities/$", activities.activity_new, name="activity_new"),
    re_path(rf"^{KIND}/$", customer_lists.customer_list, name="customer_list"),
    re_path(rf"^{KIND}/export/$", customer_lists.customer_export, name="customer_export"),
    re_path(rf"^{KIND}/filters/$", customer_lists.customer_filters, name="customer_filters"),
    re_path(rf"^{KIND}/views/$", customer_lists.save_view, name="save_view"),
    re_path(rf"^{KIND}/views/{ID}/delete/$", customer_lists.delete_view, name="delete_view"),
    re_path(rf"^{KIND}/new/$", customers.customer_new, name="customer_new"),
    re_path(rf"^{KIND}/count/$", customer_lists.customer_count, name="customer_count"),
    re_path(rf"^{KIND}/bulk/$", customer_lists.bulk_action, name="bulk_action"),
    re_path(rf"^{KIND}/{ID}/edit/$", customers.customer_edit, name="customer_edit"),
    re_path(rf"^{KIND}/{ID}/$", customers.customer_detail, name="customer_detail"),
    re_path(rf"^{KIND}/{ID}/timeline/$", customers.customer_timeline, name="customer_timeline"),
    re_path(
        rf"^{KIND}/{ID}/fields/(?P<name>[a-z_]+)/$",
        customers.customer_field,
        name="customer_field",
    ),
    re_path(
        rf"^{KIND}/{ID}/panels/(?P<key>[a-z0-9_]+)/$",
        customers.customer_panel,
        name="customer_panel",
    ),
    re_path(rf"^{KIND}/{ID}/log/$", customers.log_interaction, name="log_interaction"),
]

# field visits on a phone (docs/field-sales.md)
from guanxi.web import field  # noqa: E402

VISIT = r"(?P<public_id>act_[0-9a-z]{26})"
urlpatterns += [
    path("field/", field.field_day, name="field_day"),
    path("field/plan/", field.field_plan, name="field_plan"),
    path("field/team/", field.field_team, name="field_team"),
    re_path(rf"^field/visits/{VISIT}/check-in/$", field.field_check_in, name="field_check_in"),
    re_path(rf"^field/visits/{VISIT}/check-out/$", field.field_check_out, name="field_check_out"),
    re_path(rf"^field/visits/{VISIT}/outcome/$", field.field_outcome, name="field_outcome"),
]

# products, price books, opportunity lines and quotes (guanxi.web.quotes)
from guanxi.web import quotes  # noqa: E402

urlpatterns += [
    path("products/", quotes.product_list, name="product_list"),
    re_path(r"^products/(?P<public_id>prd_[0-9a-z]{26})/$", quotes.product_edit, name="product"),
    path("price-books/", quotes.price_book_list, name="price_book_list"),
    re_path(
        r"^price-books/(?P<public_id>pbk_[0-9a-z]{26})/$",
        quotes.price_book_detail,
        name="price_book",
    ),
    re_path(
        r"^opportunities/(?P<public_id>opp_[0-9a-z]{26})/quotes/new/$",
        quotes.quote_new,
        name="quote_new",
    ),
    re_path(
        r"^opportunities/(?P<public_id>opp_[0-9a-z]{26})/lines/$", quotes.line_add, name="line_add"
    ),
    re_path(
        r"^opportunities/(?P<public_id>opp_[0-9a-z]{26})/lines/(?P<line_id>oli_[0-9a-z]{26})/$",
        quotes.line_change,
        name="line_change",
    ),
    re_path(r"^quotes/(?P<public_id>quo_[0-9a-z]{26})/$", quotes.quote_detail, name="quote_detail"),
    re_path(r"^quotes/(?P<public_id>quo_[0-9a-z]{26})/pdf/$", quotes.quote_pdf, name="quote_pdf"),
    re_path(
        r"^quotes/(?P<public_id>quo_[0-9a-z]{26})/(?P<action>submit|approve|reject-approval|send|accept|reject|revise)/$",
        quotes.quote_action,
        name="quote_action",
    ),
]
# leads (guanxi.web.leads)
urlpatterns += [
    path("leads/", leads.lead_list, name="lead_list"),
    path("leads/new/", leads.lead_new, name="lead_new"),
    path("leads/cards/", leads.lead_cards, name="lead_cards"),
    re_path(rf"^leads/{ID}/$", leads.lead_detail, name="lead_detail"),
    re_path(rf"^leads/{ID}/edit/$", leads.lead_edit, name="lead_edit"),
    re_path(rf"^leads/{ID}/status/$", leads.lead_status, name="lead_status"),
    re_path(rf"^leads/{ID}/log/$", leads.lead_log, name="lead_log"),
    re_path(rf"^leads/{ID}/convert/$", leads.lead_convert, name="lead_convert"),
    settings_path("web-to-lead/", leads.web_to_lead_settings, "web_to_lead"),
]

# opportunities: the board, the list, the record page (guanxi.web.opportunities)
from guanxi.web import opportunities  # noqa: E402

OPP = r"(?P<public_id>opp_[0-9a-z]{26})"
urlpatterns += [
    path("opportunities/", opportunities.opportunity_list, name="opportunity_list"),
    path("opportunities/board/", opportunities.opportunity_board, name="opportunity_board"),
    re_path(
        r"^opportunities/board/columns/(?P<stage_id>sstg_[0-9a-z]{26})/$",
        opportunities.board_column,
        name="opportunity_board_column",
    ),
    path("opportunities/export/", opportunities.opportunity_export, name="opportunity_export"),
    path("opportunities/new/", opportunities.opportunity_new, name="opportunity_new"),
    path(
        "opportunities/new/accounts/",
        opportunities.account_choices,
        name="opportunity_account_choices",
    ),
    re_path(
        rf"^opportunities/{OPP}/$", opportunities.opportunity_detail, name="opportunity_detail"
    ),
    re_path(
        rf"^opportunities/{OPP}/edit/$", opportunities.opportunity_edit, name="opportunity_edit"
    ),
    re_path(
        rf"^opportunities/{OPP}/move/$", opportunities.opportunity_move, name="opportunity_move"
    ),
    re_path(
        rf"^opportunities/{OPP}/contact-roles/$",
        opportunities.contact_role_add,
        name="opportunity_contact_role_add",
    ),
    re_path(
        rf"^opportunities/{OPP}/contact-roles/(?P<role_id>ocr_[0-9a-z]{{26}})/remove/$",
        opportunities.contact_role_remove,
        name="opportunity_contact_role_remove",
    ),
]

# forecasts and the sales dashboard
from guanxi.web import sales_dashboards  # noqa: E402

urlpatterns += [
    path("forecasts/", sales_dashboards.forecast_page, name="forecasts"),
    path("forecasts/rows/", sales_dashboards.forecast_rows, name="forecast_rows"),
    path("forecasts/adjust/", sales_dashboards.forecast_adjust, name="forecast_adjust"),
    path("dashboards/sales/", sales_dashboards.sales_dashboard, name="sales_dashboard"),
    re_path(
        r"^dashboards/sales/(?P<key>[a-z0-9_]+)/$",
        sales_dashboards.dashboard_metric,
        name="dashboard_metric",
    ),
    re_path(
        r"^dashboards/sales/(?P<key>[a-z0-9_]+)/export/$",
        sales_dashboards.dashboard_export,
        name="dashboard_export",
    ),
]
# lead routing settings
urlpatterns += [
    settings_path("lead-routing/", lead_rules.lead_routing, "lead_routing"),
    settings_path("discount-limits/", quotes.discount_limits, "discounts"),
    settings_path("lead-routing/hours/", lead_rules.business_hours, "lead_hours"),
    re_path(
        r"^settings/lead-routing/(?P<kind>scoring|assignment|sla)/new/$",
        lead_rules.rule_edit,
        name="settings_lead_rule_new",
    ),
    re_path(
        rf"^settings/lead-routing/(?P<kind>scoring|assignment|sla)/{ID}/$",
        lead_rules.rule_edit,
        name="settings_lead_rule",
    ),
    re_path(
        rf"^settings/lead-routing/(?P<kind>scoring|assignment|sla)/{ID}/delete/$",
        lead_rules.rule_delete,
        name="settings_lead_rule_delete",
    ),
    re_path(
        rf"^settings/lead-routing/(?P<kind>scoring|assignment|sla)/{ID}/move/$",
        lead_rules.rule_move,
        name="settings_lead_rule_move",
    ),
]
