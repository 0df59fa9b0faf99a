"""The category a ticket gets when its sender does not choose one.

The outside contract (CONTRACT.md) names ``subject``, ``description`` and
``priority`` only, so the API, the portal form and email-opened tickets all accept
a ticket without a category. It is then read from the text: words that report a
fault make it a bug, words that ask for something new an enhancement request,
anything else a question (the documented default). Third-party (Terraform / OPA)
is never guessed: nearly every Scalr ticket mentions Terraform. Support can
change the category in the admin at any time.
"""

import re

from .choices import Category

DEFAULT_CATEGORY = Category.QUESTION

_BUG = re.compile(
    r"\b(bug|error|errors|fail|fails|failed|failing|failure|broken|crash|crashes|"
    r"crashed|exception|traceback|stuck|hangs?|timeout|timed out|regression|"
    r"not working|doesn't work|does not work|won't|cannot|can't|500|502|503)\b",
    re.IGNORECASE,
)
_ENHANCEMENT = re.compile(
    r"\b(feature request|enhancement|would be (nice|great|useful)|please add|"
    r"could you add|can you add|support for|ability to|it would help if)\b",
    re.IGNORECASE,
)


def category_from_text(subject: str, description: str) -> str:
    """``bug``, ``enhancement`` or ``question`` for a ticket sent without one.

    The subject decides when it says something; the description otherwise.
    """
    for text in (subject, description):
        if _ENHANCEMENT.search(text):
            return Category.ENHANCEMENT
        if _BUG.search(text):
            return Category.BUG
    return DEFAULT_CATEGORY
