from django.urls import path

from .views import auth, me, portal, search, workbench

app_name = "web"

urlpatterns = [
    path("", portal.home, name="home"),
    path("healthz", portal.healthz, name="healthz"),
    path("regions/", portal.regions, name="regions"),
    path("regions/<str:code>/", portal.region_detail, name="region"),
    path("departments/<int:pk>/", portal.department_detail, name="department"),
    path("halls/<int:pk>/", portal.hall_detail, name="hall"),
    path("search/", search.results, name="search"),
    path("search/suggest/", search.suggest, name="search_suggest"),
    path("search/hot/", search.hot, name="search_hot"),
    path("search/go/", search.go, name="search_go"),
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
]
