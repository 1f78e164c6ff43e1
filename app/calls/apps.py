from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Live calls"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from calls import signals  # noqa: F401  (connects the receivers)
