package gate_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// countingReader counts the bytes read from a request body.
type countingReader struct {
	r    io.Reader
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// TestDeleteSessions_AuthenticationReadsNoBody checks that a request that
// fails authentication is refused before any of its body is read, so an
// unauthenticated client cannot make the server buffer a body at all.
func TestDeleteSessions_AuthenticationReadsNoBody(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.SecurityKey = "secret"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	// A body far larger than the limit, its length not announced.
	body := &countingReader{r: io.LimitReader(zeroReader{}, 4*server.DefaultMaxBodyBytes)}
	req := httptest.NewRequest(http.MethodDelete, "/sessions", body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer wrong")
	a.Serve(t, req).WantError(t, http.StatusUnauthorized, apierr.CodeUnauthenticated, "Invalid authentication token")
	if body.read != 0 {
		t.Errorf("bytes of the body read before refusing: got %d, want 0", body.read)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
