"""The admin app, with Guanxi's site (role-based access) as the default site."""

from django.contrib.admin.apps import AdminConfig


class GuanxiAdminConfig(AdminConfig):
    default_site = "guanxi.platform.admin_site.GuanxiAdminSite"
