"""Settings split by concern; pick a variant with DJANGO_SETTINGS_MODULE.

``local`` is the embedded default for ``make run``, ``test`` is what pytest uses and
``production`` refuses to start without the secrets it needs.
"""
