from django.urls import path

from coop.monitor import views

app_name = "monitor"

urlpatterns: list = [
    path("", views.index, name="index"),
    # Task names are dotted module paths ("loans.tasks.loans_classify_nightly").
    path("<str:name>/", views.task_history, name="task"),
]
