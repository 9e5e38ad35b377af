"""Reports for the lead: the board (``dashboard``), hot spots (``hotspots``), and the KPIs
(``kpis``: cached replays on a runner; ``replay``: the replay itself; ``kpi_worker``: the
process the replays run in)."""
