"""Safety detectors: crisis language in a member's own words, and likely patient identifiers."""

from community.platform.safety.crisis import CrisisResult, Span
from community.platform.safety.detector import detect_crisis
from community.platform.safety.phi import Finding, find_identifiers, highlight

__all__ = ["CrisisResult", "Finding", "Span", "detect_crisis", "find_identifiers", "highlight"]
