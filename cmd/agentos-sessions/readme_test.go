package main

import (
	"os"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/readmecheck"
	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
)

// TestREADME runs README.md's examples, in order, against servers started
// the way the README says (internal/readmecheck); each server is this test
// binary running main, as TestMain allows. make test runs it with -v, so
// that what it ran and what it skipped shows.
func TestREADME(t *testing.T) {
	t.Parallel()
	readmecheck.Check(t, "../../README.md", func(t testing.TB, dir string, env, args []string) string {
		return testkit.Spawn(t, os.Args[0], spawn.Options{
			Args: args, Dir: dir, Env: append(env, "AGENTOS_SESSIONS_TEST_MAIN=1"),
		}).URL
	})
}
