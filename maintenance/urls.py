from django.urls import path

from . import views

app_name = "maintenance"

urlpatterns = [
    path("maintenance/", views.window_list, name="list"),
    path("maintenance.ics", views.window_feed, name="feed"),
    path("maintenance/reminders/", views.reminders_set, name="reminders"),
]
