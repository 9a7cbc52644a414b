package store

import (
	"database/sql"
	"runtime"
	"time"
)

// Connection pool sizes. database/sql keeps only 2 idle connections by
// default, so under concurrent requests every connection past the second
// would be closed after each use and opened again for the next one.
// PostgreSQL pools are sized by ConnSettings.MaxOpenConns (openPostgres).
// sqlitePoolSize bounds a SQLite file's connections. SQLite runs one writer
// at a time: writers past the first wait in its busy handler, which sleeps
// in steps of up to 100 ms, so a few connections keep readers concurrent
// (WAL) without leaving many writers asleep.
func sqlitePoolSize() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// sizePool applies a pool size to a database that is not :memory:.
func sizePool(db *sql.DB, size int) {
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	// Connections idle for long are given back, so an idle server holds
	// none of a shared database server's connection slots.
	db.SetConnMaxIdleTime(5 * time.Minute)
}
