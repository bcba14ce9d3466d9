"""SQL for coverage planning: the search log's grid cells and imported demand layers.

A mixin of SQLiteStore (it relies on what `Connected` declares).
"""

from collections.abc import Mapping, Sequence

from stations.core import demand
from stations.core.demand import DemandLayer, DemandPoint, SearchCell
from stations.core.geo import BBox
from stations.store import records
from stations.store.sqlite.base import Connected, inserted_id


class PlanningQueries(Connected):
    # -- the search log -----------------------------------------------------------------------

    def record_searches(self, counts: Mapping[tuple[str, int, int], tuple[int, int]]) -> None:
        if not counts:
            return
        sql = """
            insert into search_cells (day, cell_row, cell_col, searches, unmet)
            values (?, ?, ?, ?, ?)
            on conflict (day, cell_row, cell_col) do update set
                searches = search_cells.searches + excluded.searches,
                unmet = search_cells.unmet + excluded.unmet
        """
        keys = sorted(counts)  # one order for every writer
        with self.transaction():
            self.db.conn.executemany(sql, [(*key, *counts[key]) for key in keys])
            oldest = demand.keep_from(max(day for day, _, _ in keys))
            self.db.conn.execute("delete from search_cells where day < ?", [oldest])

    def search_cells(self, box: BBox, since_day: str, min_searches: int) -> list[SearchCell]:
        first, last = demand.row_span(box)
        sql = records.SEARCH_CELLS_SQL.format(p="?")
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
        conn = self.db.conn
        with self.transaction():
            conn.execute(
                "delete from demand_points where layer_id in"
                " (select id from demand_layers where name = ?)",
                [name],
            )
            conn.execute("delete from demand_layers where name = ?", [name])
            layer_id = inserted_id(
                conn.execute(
                    "insert into demand_layers"
                    " (name, kind, fictitious, points, total_weight, imported_at)"
                    " values (?, ?, ?, ?, ?, ?)",
                    [name, kind, int(fictitious), len(points), demand.total_weight(points), now],
                )
            )
            conn.executemany(
                "insert into demand_points (layer_id, lat, lon, weight, label, adcode)"
                " values (?, ?, ?, ?, ?, ?)",
                ((layer_id, p.lat, p.lon, p.weight, p.label, p.adcode) for p in points),
            )
        return len(points)

    def demand_layers(self) -> list[DemandLayer]:
        return [records.demand_layer(r) for r in self._rows(records.LAYERS_SQL)]

    def demand_points(self, name: str, region: str = "") -> list[DemandPoint]:
        sql = """
            select p.lat, p.lon, p.weight, p.label, p.adcode
            from demand_points p join demand_layers l on l.id = p.layer_id
            where l.name = ? and p.adcode like ?
            order by p.id
        """
        return [DemandPoint(**r) for r in self._rows(sql, [name, region + "%"])]

    def delete_demand_layer(self, name: str) -> bool:
        with self.transaction():
            self.db.conn.execute(
                "delete from demand_points where layer_id in"
                " (select id from demand_layers where name = ?)",
                [name],
            )
            cursor = self.db.conn.execute("delete from demand_layers where name = ?", [name])
            return cursor.rowcount == 1
