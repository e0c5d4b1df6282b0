from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from guanxi.web import customers, views

app_name = "web"
KIND = r"(?P<kind>contacts|accounts)"
ID = r"(?P<public_id>[a-z]+_[0-9a-z]{26})"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", views.set_language, name="set_language"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("search/", customers.search_page, name="search"),
    re_path(rf"^{KIND}/$", customers.customer_list, name="customer_list"),
    re_path(rf"^{KIND}/new/$", customers.customer_new, name="customer_new"),
    re_path(rf"^{KIND}/{ID}/edit/$", customers.customer_edit, name="customer_edit"),
    re_path(rf"^{KIND}/{ID}/$", customers.customer_detail, name="customer_detail"),
    re_path(rf"^{KIND}/{ID}/timeline/$", customers.customer_timeline, name="customer_timeline"),
    re_path(rf"^{KIND}/{ID}/log/$", customers.log_interaction, name="log_interaction"),
]
