from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("residents/", views.ResidentListView.as_view(), name="resident_list"),
    path("residents/<str:id_number>/", views.ResidentDetailView.as_view(), name="resident_detail"),
]
