"""Staff web pages at /admin: accounts, sessions and CSRF (auth.py), one module per page group."""
