from rest_framework.routers import DefaultRouter


class OptionalSlashRouter(DefaultRouter):
    """A router whose routes match with or without the trailing slash, for every method."""

    include_root_view = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"
