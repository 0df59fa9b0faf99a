"""Views that exist only to measure the stack (on when BENCHMARK_ENDPOINTS is set)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def ceiling(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in page: full middleware, a tiny template, no queries.

    benchmarks/portal.py compares the portal pages' throughput against this one.
    """
    return render(request, "bench/ceiling.html")
