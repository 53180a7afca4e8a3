from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path

from yiwang.api import api
from yiwang.cases import api_apply
from yiwang.ratings import api_submit
from yiwang.search import api_lean as search_lean


def admin_login(request, extra_context=None):
    """The admin site logs in through the platform's own login (throttling, TOTP, audit)."""
    return redirect_to_login(request.GET.get("next", "/admin/"), login_url="web:login")


admin.site.login = admin_login
admin.site.site_header = "一网 yiwang 管理后台"
admin.site.site_title = "一网 yiwang"
admin.site.index_title = "目录与基础数据"

urlpatterns = [
    path("admin/", admin.site.urls),
    # the busiest endpoint, before the API's patterns: same contract, without Ninja (decision 0008)
    path("api/v1/ratings/invitations/<str:token>/rating", api_submit.submit),
    # search (decision 0015): plain queries answered without Ninja, anything else handed to it
    path("api/v1/search", search_lean.search),
    path("api/v1/search/suggest", search_lean.suggest),
    # online applications (form + files), same contract, without Ninja (decision 0016)
    path("api/v1/cases/apply", api_apply.apply),
    path("api/v1/", api.urls),
    path("open311/v2/", include("yiwang.hotline.open311")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("yiwang.ratings.urls")),
    path("", include("yiwang.web.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
