"""The analysts' page (`GET /ui`): each model's latest answers and whether to trust them."""
