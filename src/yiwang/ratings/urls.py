from django.urls import path

from . import views

app_name = "ratings"

urlpatterns = [
    # evaluator tablet (before rate/<token>/ so "device" is never read as a token)
    path("rate/device/<str:key>/", views.evaluator, name="evaluator"),
    path("rate/device/<str:key>/now/", views.evaluator_now, name="evaluator_now"),
    path("rate/device/<str:key>/submit/", views.evaluator_submit, name="evaluator_submit"),
    path("rate/<str:token>/", views.rate, name="rate"),
    path("me/ratings/", views.mine, name="mine"),
    path("workbench/ratings/window/", views.window_service, name="window"),
    path("workbench/ratings/rectifications/", views.rectification_list, name="rectifications"),
    path("workbench/ratings/rectifications/<int:pk>/", views.rectification_detail, name="rectification"),
    path("workbench/ratings/reports/", views.report_page, name="reports"),
    path("workbench/ratings/reports/export.<str:fmt>", views.report_export, name="report_export"),
    path("ratings/", views.disclosure, name="disclosure"),
    path("ratings/departments/<int:pk>/<str:month>/", views.disclosure_department, name="disclosure_department"),
]
