"""`python -m guanxi` is Django's manage.py for this project."""

from guanxi.cli import main

if __name__ == "__main__":
    main()
