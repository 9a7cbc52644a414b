package testkit

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/store"
)

// AppName is an application_name no other server on the shared PostgreSQL
// uses, so that a test that looks at or ends "its" backends meets nothing
// else.
func AppName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "agentos-test-" + hex.EncodeToString(b)
}

// TerminateBackends ends every PostgreSQL backend with that application
// name and returns how many it ended.
func TerminateBackends(t testing.TB, db *gorm.DB, appName string) int {
	t.Helper()
	var n int
	err := db.Raw(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()) k`, appName).Scan(&n).Error
	if err != nil {
		t.Fatalf("testkit: terminate backends: %v", err)
	}
	return n
}

// WaitForLockWaiters polls until n backends with that application name are
// waiting for a lock, and fails the test if that does not happen within a
// minute. It orders events; it measures nothing.
func WaitForLockWaiters(t testing.TB, db *gorm.DB, appName string, n int) {
	t.Helper()
	waitForBackends(t, db, "waiting for a lock", n,
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'`, appName)
}

// WaitForBackends polls until the backends with that application name in
// state ("active", "idle", …) number n, and fails the test if that does not
// happen within a minute. It orders events; it measures nothing.
func WaitForBackends(t testing.TB, db *gorm.DB, appName, state string, n int) {
	t.Helper()
	waitForBackends(t, db, state, n,
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state = ?`, appName, state)
}

// waitForBackends polls until query, which counts the backends of
// args[0], the application name, answers n.
func waitForBackends(t testing.TB, db *gorm.DB, what string, n int, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var got int
		if err := db.Raw(query, args...).Scan(&got).Error; err != nil {
			t.Fatalf("testkit: count backends: %v", err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backends of %v %s: got %d, want %d", args[0], what, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// LockSessions holds a row lock on sessions of the default table until the
// returned release is called (or the test ends), so that a delete naming
// one of them waits in the database.
func LockSessions(t testing.TB, db *gorm.DB, ids ...string) (release func()) {
	t.Helper()
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	var got []string
	if err := tx.Raw(`SELECT session_id FROM `+store.DefaultSessionsTable+` WHERE session_id IN ? FOR UPDATE`, ids).Scan(&got).Error; err != nil || len(got) != len(ids) {
		t.Fatalf("testkit: lock %v: locked %v, %v", ids, got, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}
