"""The public entry point of crisis detection: `from community.safety import detect_crisis`.

A thin re-export of the platform's hybrid detector (rules + semantic classifier), so callers outside the
package, and the issue's measurements, do not depend on where the detector lives inside the platform.
"""

from community.platform.safety.crisis import CrisisResult, Span
from community.platform.safety.detector import detect_crisis

__all__ = ["CrisisResult", "Span", "detect_crisis"]
