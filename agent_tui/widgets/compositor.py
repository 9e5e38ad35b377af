"""A compositor that never splits a double-width glyph where nothing on screen changes.

Textual cuts every screen line at the left and right edge of *every* visible widget, including
the widgets hidden under an overlay, and gives each piece to the front-most widget there. The
front-most widget's line is then divided at all those cuts, and a 汉字 that straddles one is
turned into two spaces by ``Segment.split_cells`` (it cannot be half in one piece and half in
the next). So a toast over the entry form lost the characters that lay over the form's edge,
the history pane's border and its padding (``已受理并派往`` → ``理并派往``), and the Footer's
command-palette key, docked over keys that overflow at 100 columns, lost ``命``.

Upstream: https://github.com/Textualize/textual/issues/6357 (open for Textual 8.2). This
subclass changes one thing: a widget's line is divided only where the front-most widget
changes, i.e. at the edges of the runs of pieces it wins; the other pieces of a run get an
empty strip, so the line still joins to the screen's width. Partial updates repaint whole runs
(a repaint span that ends inside a run is widened to the run), so a terminal is never sent half
a glyph either. Remove this module when Textual divides at ownership changes itself.

A second repair, found by the same tests: when widgets are mounted (a toast), Textual rebuilds
its map lazily the first time anything asks where a widget is, and the layout pass after that
compares the new map with itself and repaints nothing. The toasts that moved up for the new one
were not repainted, so the terminal went on showing the old stack where the new one had moved
(tests/pilot/test_glyphs.py). Here the lazy rebuild marks what moved for repainting, as the
layout pass would. No upstream report found for this one (searched Textual's issues).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

import textual.screen
from textual._compositor import ChopsUpdate, Compositor, CompositorMap
from textual.geometry import Region
from textual.strip import Strip

#: A piece of a line that the run to its left already paints.
_COVERED = Strip([], 0)


class CellSafeCompositor(Compositor):
    @property
    def full_map(self) -> CompositorMap:
        if self.root is None or not self._full_map_invalidated:
            return super().full_map
        before = self._full_map
        after = super().full_map
        self._dirty_regions.update(
            region
            for region in (
                geometry.clip.intersection(geometry.region)
                for _, geometry in after.items() ^ before.items()
            )
            if region
        )
        return after

    def _render_chops(
        self,
        crop: Region,
        is_rendered_line: Callable[[int], bool],
    ) -> Sequence[Mapping[int, Strip]]:
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(line[:-1]) for line in cuts]
        # Front to back: the first widget to claim a piece of a line is the one on top.
        for region, clip, strips in self._get_renders(crop):
            render_region = region.intersection(clip)
            render_x = render_region.x
            first_cut, last_cut = render_region.column_span
            for y, strip in zip(render_region.line_range, strips, strict=False):
                if not is_rendered_line(y):
                    continue
                line = chops[y]
                mine = [cut for cut in cuts[y] if first_cut <= cut <= last_cut]
                runs: list[tuple[int, int]] = []  # the pieces this widget wins, merged
                start: int | None = None
                for cut in mine[:-1]:
                    if line[cut] is None:
                        if start is None:
                            start = cut
                    elif start is not None:
                        runs.append((start, cut))
                        start = None
                if start is not None:
                    runs.append((start, last_cut))
                if not runs:
                    continue
                edges = sorted({x - render_x for run in runs for x in run} | {last_cut - render_x})
                edges = [x for x in edges if x > 0]
                pieces = dict(
                    zip((0, *edges[:-1]), strip.divide(edges), strict=False)
                )  # offset → piece
                for run_start, run_end in runs:
                    line[run_start] = pieces.get(run_start - render_x, _COVERED)
                    for cut in mine:
                        if run_start < cut < run_end:
                            line[cut] = _COVERED
        return cast("Sequence[Mapping[int, Strip]]", chops)

    def render_partial_update(self) -> ChopsUpdate | None:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        crop = Region.from_union(list(update_regions)).intersection(self.size.region)
        spans = list(self._regions_to_spans(update_regions))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        chops = self._render_chops(crop, is_rendered_line)
        # Each piece's true end (a run is wider than its first cut's bucket); covered pieces are
        # skipped (None), and spans are widened to whole runs so no piece is cropped mid-glyph.
        lines: list[dict[int, Strip | None]] = []
        ends: list[list[int]] = []
        for line, line_cuts in zip(chops, self.cuts, strict=False):
            kept: dict[int, Strip | None] = {}
            line_ends: list[int] = []
            for (x, piece), next_cut in zip(line.items(), line_cuts[1:], strict=False):
                strip = None if piece is _COVERED else piece
                kept[x] = strip
                line_ends.append(x + strip.cell_length if strip is not None else next_cut)
            lines.append(kept)
            ends.append(line_ends)
        widened = []
        for y, x1, x2 in spans:
            for x, end in zip(lines[y], ends[y], strict=False):
                if lines[y][x] is None:
                    continue
                if x < x1 < end:
                    x1 = x
                if x < x2 < end:
                    x2 = end
            widened.append((y, x1, x2))
        return ChopsUpdate(lines, widened, ends)


def install() -> None:
    """Make every screen created from now on (ours and Textual's own: the command palette,
    modal screens) composite with ``CellSafeCompositor``."""
    textual.screen.Compositor = CellSafeCompositor  # type: ignore[misc]
