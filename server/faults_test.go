package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// group is a set of sessions, name-0 … name-(n-1) of the three types in
// turn, each with that many runs, and the ids and types that name them.
func group(name string, n, runs int) (ids, types []string, rows []testkit.Session) {
	for i := range n {
		id := fmt.Sprintf("%s-%d", name, i)
		ids, types = append(ids, id), append(types, sessionTypes[i%3])
		rows = append(rows, testkit.Session{ID: id, Type: sessionTypes[i%3], Runs: runs})
	}
	return ids, types, rows
}

func wantInternalDeleteError(t *testing.T, res testkit.Response) {
	t.Helper()
	res.WantError(t, http.StatusInternalServerError, apierr.CodeInternal,
		fmt.Sprintf("Failed to delete sessions (request id: %s)", res.Header.Get("X-Request-ID")))
}

// TestDeleteSessions_BackendsTerminated kills the server's own PostgreSQL
// connections, found by application_name, while bulk deletes run: half of
// them are blocked on a row lock the test holds, the rest run freely.
func TestDeleteSessions_BackendsTerminated(t *testing.T) {
	app := testkit.AppName(t)
	a := testkit.NewAPIWith(t, testkit.Options{Conn: store.ConnSettings{ApplicationName: app, MaxOpenConns: 32}},
		testkit.Database("default", testdb.PostgresURL(t)))
	db := a.DB["default"]
	const groups, size = 24, 20
	ids, types := make([][]string, groups), make([][]string, groups)
	var firsts []string
	for g := range groups {
		var rows []testkit.Session
		ids[g], types[g], rows = group(fmt.Sprintf("g%d", g), size, 2)
		a.Seed(t, rows...)
		if g%2 == 0 {
			firsts = append(firsts, ids[g][size/2])
		}
	}
	release := testkit.LockSessions(t, db, firsts...)

	results := make([]testkit.Response, groups)
	var wg sync.WaitGroup
	for g := range groups {
		wg.Go(func() {
			results[g] = a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids[g], types[g]), "Content-Type", jsonCT)
		})
	}
	testkit.WaitForLockWaiters(t, db, app, groups/2)
	if n := testkit.TerminateBackends(t, db, app); n < groups/2 {
		t.Fatalf("terminated %d backends, want at least %d", n, groups/2)
	}
	wg.Wait()
	// Every blocked delete has answered while the lock is still held: had
	// one been retried on a fresh connection it would still be waiting.
	testkit.WaitForLockWaiters(t, db, app, 0)
	release()

	for g := range groups {
		s, r := a.Rows(t, "default", store.DefaultTables, ids[g]...)
		res := results[g]
		switch {
		case g%2 == 0:
			wantInternalDeleteError(t, res)
			if s != size || r != 2*size {
				t.Errorf("blocked group %d: got %d sessions %d runs, want all %d and %d", g, s, r, size, 2*size)
			}
		case res.Status == http.StatusNoContent:
			if s != 0 || r != 0 {
				t.Errorf("deleted group %d: got %d sessions %d runs left, want none", g, s, r)
			}
		default:
			wantInternalDeleteError(t, res)
			all, none := s == size && r == 2*size, s == 0 && r == 0
			if !all && !none {
				t.Errorf("failed group %d: got %d sessions %d runs, want all or nothing", g, s, r)
			}
		}
	}

	t.Run("FirstRequestAfterTheKillSucceeds", func(t *testing.T) {
		// Fill the pool with idle connections, each used more than once
		// (pgx's own check pings only connections idle for a second, or
		// never reused), then kill them all.
		for range 3 {
			var warm sync.WaitGroup
			for range 8 {
				warm.Go(func() { a.Do(t, http.MethodGet, "/sessions?limit=1", "") })
			}
			warm.Wait()
		}
		if n := testkit.TerminateBackends(t, db, app); n == 0 {
			t.Fatal("no idle backends to terminate")
		}
		testkit.WaitForBackends(t, db, app, "idle", 0)
		ids, types, rows := group("after", 3, 2)
		a.Seed(t, rows...)
		res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("first delete after the kill: status %d (%s), want 204", res.Status, res.Body)
		}
		a.WantRows(t, ids, 0, 0)
		if res := a.Do(t, http.MethodGet, "/ready", ""); res.Status != http.StatusOK {
			t.Errorf("GET /ready after the kill: %d %s, want 200", res.Status, res.Body)
		}
	})
}

// TestDeleteSessions_ClientHangsUp cancels a bulk delete that is blocked in
// the database: the request context must reach PostgreSQL, which abandons
// the statement, and the transaction must roll back.
func TestDeleteSessions_ClientHangsUp(t *testing.T) {
	app := testkit.AppName(t)
	a := testkit.NewAPIWith(t, testkit.Options{Conn: store.ConnSettings{ApplicationName: app}},
		testkit.Database("default", testdb.PostgresURL(t)))
	db := a.DB["default"]
	ids, types, rows := group("c", 30, 2)
	a.Seed(t, rows...)
	release := testkit.LockSessions(t, db, ids[29])

	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+"/sessions", strings.NewReader(testkit.DeleteBody(ids, types)))
	req.Header.Set("Content-Type", jsonCT)
	done := make(chan error, 1)
	go func() {
		res, err := srv.Client().Do(req)
		if err == nil {
			_ = res.Body.Close()
			err = fmt.Errorf("got status %d", res.StatusCode)
		}
		done <- err
	}()
	testkit.WaitForLockWaiters(t, db, app, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context canceled", err)
	}
	// The server's statement stops waiting while the lock is still held.
	testkit.WaitForLockWaiters(t, db, app, 0)
	testkit.WaitForBackends(t, db, app, "active", 0)
	release()
	a.WantRows(t, ids, 30, 60)
}

// TestDeleteSessions_StatementTimeout bounds how long a delete waits for
// locks: with a statement timeout it fails, deleting nothing, while the
// lock is still held.
func TestDeleteSessions_StatementTimeout(t *testing.T) {
	a := testkit.NewAPIWith(t, testkit.Options{Conn: store.ConnSettings{ApplicationName: testkit.AppName(t), StatementTimeout: 200 * time.Millisecond}},
		testkit.Database("default", testdb.PostgresURL(t)))
	ids, types, rows := group("st", 10, 2)
	a.Seed(t, rows...)
	release := testkit.LockSessions(t, a.DB["default"], ids[0])
	defer release()
	done := make(chan testkit.Response, 1)
	go func() {
		done <- a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids, types), "Content-Type", jsonCT)
	}()
	select {
	case res := <-done:
		wantInternalDeleteError(t, res)
	case <-time.After(time.Minute): // a failsafe against a hang, not a measurement
		t.Fatal("the delete is still waiting for the lock: statement_timeout was not applied")
	}
	a.WantRows(t, ids, 10, 20)
}

// proxy forwards TCP connections to PostgreSQL until it is cut: then it
// drops every open connection and refuses new ones, until restored.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

// proxied returns a proxy to the PostgreSQL server of a database URL and
// the URL that goes through it.
func proxied(t *testing.T, direct string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return p, u.String()
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		_ = c.Close()
		return
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, upstream) {
		return
	}
	go func() { _, _ = io.Copy(upstream, c); _ = upstream.Close() }()
	_, _ = io.Copy(c, upstream)
	_ = c.Close()
}

// track registers a forwarded pair, or closes it when the proxy was cut
// while it was dialling.
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		if p.down {
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
	}
	return !p.down
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestReady_DatabaseOutage puts a proxy between the server and PostgreSQL
// and cuts it: /ready answers 503 naming the database while it is cut, a
// delete fails whole, and once it is restored the server recovers by
// itself.
func TestReady_DatabaseOutage(t *testing.T) {
	direct := testdb.PostgresURL(t)
	p, through := proxied(t, direct)
	a := testkit.NewAPIWith(t, testkit.Options{Conn: store.ConnSettings{ApplicationName: testkit.AppName(t)}},
		testkit.Database("default", through))
	a.DB["default"] = testkit.Open(t, direct)

	ids, types, rows := group("o", 6, 2)
	a.Seed(t, rows...)
	if res := a.Do(t, http.MethodGet, "/ready", ""); res.Status != http.StatusOK || string(res.Body) != `{"status":"ready"}`+"\n" {
		t.Fatalf("GET /ready before the outage: %d %q, want 200", res.Status, res.Body)
	}
	if res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids[:2], types[:2]), "Content-Type", jsonCT); res.Status != http.StatusNoContent {
		t.Fatalf("delete before the outage: %d %s", res.Status, res.Body)
	}

	p.cut()
	res := a.Do(t, http.MethodGet, "/ready", "")
	res.WantError(t, http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "Database 'default' is unreachable")
	wantInternalDeleteError(t, a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids[2:4], types[2:4]), "Content-Type", jsonCT))
	a.WantRows(t, ids[2:], 4, 8)
	if res := a.Do(t, http.MethodGet, "/health", ""); res.Status != http.StatusOK {
		t.Errorf("GET /health during the outage: %d, want 200: the server stays up", res.Status)
	}

	p.restore()
	deadline := time.Now().Add(time.Minute)
	for a.Do(t, http.MethodGet, "/ready", "").Status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("GET /ready still failing a minute after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids[2:], types[2:]), "Content-Type", jsonCT); res.Status != http.StatusNoContent {
		t.Fatalf("delete after the outage: %d %s", res.Status, res.Body)
	}
	a.WantRows(t, ids, 0, 0)
}

// TestReady_NamesTheUnreachableDatabase configures two databases and cuts
// one: /ready names that one only, and the other keeps serving.
func TestReady_NamesTheUnreachableDatabase(t *testing.T) {
	t.Parallel()
	p, through := proxied(t, testdb.PostgresURL(t))
	a := testkit.NewAPIWith(t, testkit.Options{},
		testkit.Database("local", testdb.SQLiteURL(t)),
		testkit.Database("main", through))
	if res := a.Do(t, http.MethodGet, "/ready", ""); res.Status != http.StatusOK {
		t.Fatalf("GET /ready: %d %s, want 200", res.Status, res.Body)
	}
	p.cut()
	a.Do(t, http.MethodGet, "/ready", "").WantError(t, http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "Database 'main' is unreachable")
	if res := a.Do(t, http.MethodGet, "/sessions?db_id=local", ""); res.Status != http.StatusOK {
		t.Errorf("GET /sessions on the reachable database: %d %s, want 200", res.Status, res.Body)
	}
}
