"""SQL for coverage planning: the search log's grid cells and imported demand layers.

A mixin of PostGISStore (it relies on what `Connected` declares), answering exactly as the
SQLite store's planning queries do.
"""

from collections.abc import Mapping, Sequence

import psycopg

from stations.core import demand
from stations.core.demand import DemandLayer, DemandPoint, SearchCell
from stations.core.geo import BBox
from stations.store import records
from stations.store.postgis.base import Connected, translated


class PlanningQueries(Connected):
    # -- the search log -----------------------------------------------------------------------

    def record_searches(self, counts: Mapping[tuple[str, int, int], tuple[int, int]]) -> None:
        if not counts:
            return
        sql = """
            insert into search_cells (day, cell_row, cell_col, searches, unmet)
            values (%s, %s, %s, %s, %s)
            on conflict (day, cell_row, cell_col) do update set
                searches = search_cells.searches + excluded.searches,
                unmet = search_cells.unmet + excluded.unmet
        """
        keys = sorted(counts)  # every writer locks rows in one order: no deadlock
        with self.transaction():
            self._executemany(sql, [(*key, *counts[key]) for key in keys])
            oldest = demand.keep_from(max(day for day, _, _ in keys))
            self._execute("delete from search_cells where day < %s", [oldest])

    def search_cells(self, box: BBox, since_day: str, min_searches: int) -> list[SearchCell]:
        first, last = demand.row_span(box)
        sql = records.SEARCH_CELLS_SQL.format(p="%s")
        return records.search_cells(self._rows(sql, [first, last, since_day, min_searches]), box)

    # -- demand layers ------------------------------------------------------------------------

    def replace_demand_layer(
        self,
        name: str,
        kind: str,
        points: Sequence[DemandPoint],
        now: str,
        fictitious: bool,
    ) -> int:
        with self.transaction():
            self._execute("delete from demand_layers where name = %s", [name])  # cascades
            layer_id = self._value(
                "insert into demand_layers"
                " (name, kind, fictitious, points, total_weight, imported_at)"
                " values (%s, %s, %s, %s, %s, %s) returning id",
                [name, kind, fictitious, len(points), demand.total_weight(points), now],
            )
            copy_sql = "copy demand_points (layer_id, lat, lon, weight, label, adcode) from stdin"
            try:
                with self._connection().cursor() as cursor, cursor.copy(copy_sql) as copy:
                    for p in points:
                        copy.write_row((layer_id, p.lat, p.lon, p.weight, p.label, p.adcode))
            except psycopg.Error as exc:
                translated(exc)
        return len(points)

    def demand_layers(self) -> list[DemandLayer]:
        return [records.demand_layer(r) for r in self._rows(records.LAYERS_SQL)]

    def demand_points(self, name: str, region: str = "") -> list[DemandPoint]:
        sql = """
            select p.lat, p.lon, p.weight, p.label, p.adcode
            from demand_points p join demand_layers l on l.id = p.layer_id
            where l.name = %s and p.adcode like %s
            order by p.id
        """
        return [DemandPoint(**r) for r in self._rows(sql, [name, region + "%"])]

    def delete_demand_layer(self, name: str) -> bool:
        with self.transaction():
            deleted = self._execute(
                "delete from demand_layers where name = %s", [name]
            ).rowcount  # its points go with it (on delete cascade)
            return deleted == 1
