package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
)

// Spawn starts the server binary bin with opts (spawn.Start: on a port the
// kernel picks, read back from its log) and stops it when the test ends.
func Spawn(t testing.TB, bin string, opts spawn.Options) *spawn.Server {
	t.Helper()
	s, err := spawn.Start(context.Background(), bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(time.Minute) })
	return s
}
