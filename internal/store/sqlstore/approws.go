package sqlstore

import (
	"context"
	"database/sql"
)

// AppRows counts, per table of appTables, the rows that belong to sdkappid: what
// DeleteApp removes, so after a deletion every count is zero (the apps row, the
// tombstone, is not counted). Tables without rows of the app are left out. For
// tests and audits: one COUNT per table, on the write connection so that what
// was just committed is seen.
func (s *Store) AppRows(ctx context.Context, sdkappid int64) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range appTables {
		var n int64
		err := s.w.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM `+t.table+` WHERE `+t.col+` = ?`), sdkappid).Scan(&n)
		if err != nil && err != sql.ErrNoRows {
			return nil, wrap("count app rows", err)
		}
		if n > 0 {
			out[t.table] = n
		}
	}
	return out, nil
}
