"""What the past says about each row, before it becomes model features.

Both ways of computing the past (the time-ordered pass over a training table in
:mod:`~smartcustoms.risk.features.past`, and the serving state in
:mod:`~smartcustoms.risk.features.history`) produce a :class:`PastStats`; one function then turns
it into the feature matrix (:mod:`~smartcustoms.risk.features.matrix`), so training and serving
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcustoms.risk.features.unit_value import PeerSummary

__all__ = ["GroupCounts", "PastStats"]


@dataclass(frozen=True)
class GroupCounts:
    """Per row, the past of the row's value of one group."""

    seen: np.ndarray  # declarations seen before
    inspected: np.ndarray  # of which inspected with a recorded result
    irregular: np.ndarray  # of which an irregularity was found
    last_day: np.ndarray  # day of the latest earlier declaration, NaN if none


@dataclass(frozen=True)
class PastStats:
    """The past of every row of a batch: per group, overall, and unit-value peers."""

    groups: dict[str, GroupCounts]
    total_inspected: np.ndarray  # per row: all inspections recorded before it
    total_irregular: np.ndarray
    unit_value_peers: PeerSummary

    def take(self, rows: np.ndarray) -> PastStats:
        """The past of the rows at these positions (as :meth:`PreparedItems.take`)."""
        return PastStats(
            groups={
                name: GroupCounts(
                    seen=g.seen[rows],
                    inspected=g.inspected[rows],
                    irregular=g.irregular[rows],
                    last_day=g.last_day[rows],
                )
                for name, g in self.groups.items()
            },
            total_inspected=self.total_inspected[rows],
            total_irregular=self.total_irregular[rows],
            unit_value_peers=(
                self.unit_value_peers[0][rows],
                self.unit_value_peers[1][rows],
                self.unit_value_peers[2][rows],
                self.unit_value_peers[3][rows],
            ),
        )
