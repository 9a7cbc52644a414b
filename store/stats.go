package store

import "database/sql"

// Pools returns the connection pool of every open database, by database id,
// so that its statistics can be exported for monitoring.
func (c *Catalog) Pools() map[string]*sql.DB {
	pools := make(map[string]*sql.DB, len(c.databases))
	for _, d := range c.databases {
		pools[d.id] = d.sqlDB
	}
	return pools
}
