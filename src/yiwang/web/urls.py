from django.urls import path

from .views import auth, hotline, me, portal, workbench

app_name = "web"

urlpatterns = [
    path("", portal.home, name="home"),
    path("healthz", portal.healthz, name="healthz"),
    path("regions/", portal.regions, name="regions"),
    path("regions/<str:code>/", portal.region_detail, name="region"),
    path("departments/<int:pk>/", portal.department_detail, name="department"),
    path("halls/<int:pk>/", portal.hall_detail, name="hall"),
    path("login/", auth.login_view, name="login"),
    path("login/totp/", auth.login_totp, name="login_totp"),
    path("login/phone/", auth.login_phone, name="login_phone"),
    path("login/oidc/", auth.login_oidc, name="login_oidc"),
    path("login/oidc/callback/", auth.login_oidc_callback, name="login_oidc_callback"),
    path("logout/", auth.logout_view, name="logout"),
    path("me/", me.me, name="me"),
    path("me/identity/", me.identity, name="me_identity"),
    path("me/enterprises/new/", me.enterprise_new, name="me_enterprise_new"),
    path("me/authorizations/new/", me.authorization_new, name="me_authorization_new"),
    path("me/authorizations/<int:pk>/revoke/", me.authorization_revoke, name="me_authorization_revoke"),
    path("workbench/", workbench.home, name="workbench"),
    path("workbench/persons/new/", workbench.person_new, name="workbench_person_new"),
    path("workbench/persons/lookup/", workbench.person_lookup, name="workbench_person_lookup"),
    path("workbench/totp/", workbench.totp, name="workbench_totp"),
    path("workbench/audit/", workbench.audit_list, name="workbench_audit"),
    path("workbench/hotline/", hotline.platform_queue, name="hotline_platform"),
    path("workbench/hotline/console/", hotline.console, name="hotline_console"),
    path("workbench/hotline/assist/", hotline.assist, name="hotline_assist"),
    path("workbench/hotline/department/", hotline.department_queue, name="hotline_department"),
    path("workbench/hotline/kpis/", hotline.kpi_page, name="hotline_kpis"),
    path("workbench/hotline/orders/<int:pk>/", hotline.order_detail, name="hotline_order"),
    path("workbench/hotline/orders/<int:pk>/<str:step>/", hotline.order_act, name="hotline_order_act"),
    path("workbench/hotline/extensions/<int:pk>/", hotline.extension_decide, name="hotline_extension"),
    path("me/hotline/", hotline.my_orders, name="hotline_mine"),
    path("me/hotline/<int:pk>/", hotline.order_detail, name="hotline_my_order"),
]
