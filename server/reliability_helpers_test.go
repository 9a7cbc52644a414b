package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// newAPIWith serves one database, id "default", opened with settings.
func newAPIWith(t *testing.T, url string, settings store.ConnSettings) *api {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbs := []store.DatabaseConfig{{ID: "default", URL: url}}
	catalog, err := store.OpenWith(context.Background(), dbs, settings, log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = catalog.Close() })
	e, err := server.NewServer(testConfig(), catalog, log)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	return &api{t: t, e: e, router: responseRouter(t), db: map[string]*gorm.DB{"default": openDirect(t, url)}}
}

// uniqueAppName is an application_name no other server on the shared
// PostgreSQL uses, so that a test terminating "its" backends hits nothing
// else.
func uniqueAppName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "agentos-test-" + hex.EncodeToString(b)
}

// terminateBackends ends every PostgreSQL backend with that application
// name and returns how many it ended.
func terminateBackends(t *testing.T, db *gorm.DB, appName string) int {
	t.Helper()
	var n int
	err := db.Raw(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()) k`, appName).Scan(&n).Error
	if err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	return n
}

// waitForLockWaiters polls until n backends with that application name are
// waiting for a lock, and fails the test if that does not happen within a
// minute. It orders events; it measures nothing.
func waitForLockWaiters(t *testing.T, db *gorm.DB, appName string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var got int
		err := db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'`, appName).Scan(&got).Error
		if err != nil {
			t.Fatalf("count lock waiters: %v", err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backends of %s waiting for a lock: got %d, want %d", appName, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
