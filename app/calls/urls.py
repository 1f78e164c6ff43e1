from django.urls import path

from calls import views

app_name = "calls"

urlpatterns = [
    path("", views.rooms_view, name="rooms"),
    path("rooms/", views.create_room_view, name="create-room"),
    path("<uuid:room_id>/", views.room_view, name="room"),
    path("<uuid:room_id>/delete/", views.delete_room_view, name="delete-room"),
]
