from django.urls import path

from media import views

app_name = "media"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("uploads/", views.upload_form_view, name="upload-form"),
    path("<uuid:recording_id>/", views.detail_view, name="detail"),
    path("<uuid:recording_id>/confirm/", views.confirm_view, name="confirm"),
    path("<uuid:recording_id>/status/", views.status_view, name="status"),
    path("<uuid:recording_id>/rename/", views.rename_view, name="rename"),
    path("<uuid:recording_id>/delete/", views.delete_view, name="delete"),
    path("<uuid:recording_id>/download/", views.download_view, name="download"),
]
