"""`python -m app.dev.demo`: see `app.dev.demo.cli`."""

from app.dev.demo.cli import main

main()
