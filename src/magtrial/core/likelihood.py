"""The per-person summary that pooling consumes: the likelihood of the effect, not a point estimate.

``EffectLikelihood`` holds log p(data | beta) on a grid of beta values, with every nuisance
parameter (level, drift, period effects, scale, autocorrelation) integrated out under its prior and
*without* the prior on beta itself. Pooling multiplies these by the population distribution, so a
short or noisy trial (a flat curve) weighs less than a long, quiet one (a sharp curve).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magtrial.errors import ValidationError


@dataclass(frozen=True)
class EffectLikelihood:
    grid: np.ndarray  # ascending beta values, NRS points (magnesium minus comparator)
    log_lik: np.ndarray  # same shape; shifted so that max == 0

    def __post_init__(self) -> None:
        grid = np.asarray(self.grid, dtype=float)
        log_lik = np.asarray(self.log_lik, dtype=float)
        if grid.ndim != 1 or grid.shape != log_lik.shape or grid.size < 3:
            raise ValidationError("grid and log_lik must be 1-D arrays of the same length (>= 3)")
        if np.any(np.diff(grid) <= 0):
            raise ValidationError("grid must be strictly ascending")
        if not np.all(np.isfinite(log_lik)):
            raise ValidationError("log_lik must be finite")
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "log_lik", log_lik - log_lik.max())

    @classmethod
    def from_normal(cls, mean: float, sd: float, half_width: float = 8.0, n: int = 401) -> EffectLikelihood:
        """A Gaussian likelihood; for tests and for summaries that only give an estimate and its SE."""
        grid = np.linspace(mean - half_width * sd, mean + half_width * sd, n)
        return cls(grid, -0.5 * ((grid - mean) / sd) ** 2)

    def on(self, grid: np.ndarray) -> np.ndarray:
        """log-likelihood interpolated onto another grid (very low outside this one's range)."""
        return np.asarray(
            np.interp(grid, self.grid, self.log_lik, left=self.log_lik[0] - 50.0, right=self.log_lik[-1] - 50.0)
        )

    def moments(self) -> tuple[float, float]:
        """Mean and SD of the normalised likelihood (flat-prior posterior) by trapezoid rule."""
        w = np.exp(self.log_lik)
        z = np.trapezoid(w, self.grid)
        mean = float(np.trapezoid(w * self.grid, self.grid) / z)
        var = float(np.trapezoid(w * (self.grid - mean) ** 2, self.grid) / z)
        return mean, float(np.sqrt(var))
