"""Account views: auth (public sign-in), account (own settings), members (manager)."""
