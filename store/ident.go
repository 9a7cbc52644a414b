package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// quoteIdent quotes a configured table or index name as an SQL identifier,
// which PostgreSQL and SQLite both spell "name" with embedded quotes doubled.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// indexName derives the name of an index on table from a suffix such as
// "session_type". PostgreSQL truncates identifiers to 63 bytes, so that two
// long names would collide and CREATE INDEX IF NOT EXISTS would then skip
// the second; a name that would not fit is shortened and made unique with a
// hash of the table name instead.
func indexName(table, suffix string) string {
	name := table + "_" + suffix + "_idx"
	if len(name) <= maxIdentLen {
		return name
	}
	sum := sha256.Sum256([]byte(table))
	hash := hex.EncodeToString(sum[:4])
	keep := maxIdentLen - len("_"+hash+"_"+suffix+"_idx")
	prefix := table[:keep]
	// Do not cut a multi-byte UTF-8 character in half.
	for len(prefix) > 0 && !isRuneStart(table[len(prefix)]) {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + "_" + hash + "_" + suffix + "_idx"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
