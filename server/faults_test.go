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

	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// group is a set of sessions, each with two runs, that one request deletes.
func group(name string, n int) (ids, types []string, rows []session) {
	for i := range n {
		id := fmt.Sprintf("%s-%d", name, i)
		ids, types = append(ids, id), append(types, sessionTypes[i%3])
		rows = append(rows, session{id: id, typ: sessionTypes[i%3], runs: 2})
	}
	return ids, types, rows
}

// lockSession holds a row lock on one session until the returned release
// is called, so that a delete naming it blocks in the database.
func lockSession(t *testing.T, db *gorm.DB, ids ...string) (release func()) {
	t.Helper()
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	var got []string
	if err := tx.Raw(`SELECT session_id FROM agno_sessions WHERE session_id IN ? FOR UPDATE`, ids).Scan(&got).Error; err != nil || len(got) != len(ids) {
		t.Fatalf("lock %v: locked %v, %v", ids, got, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// waitForBackends polls until the backends with that application name in
// the given state number n; it fails the test after a minute. It orders
// events and measures nothing.
func waitForBackends(t *testing.T, db *gorm.DB, appName, state string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var got int
		if err := db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state = ?`, appName, state).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s backends of %s: got %d, want %d", state, appName, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantInternalDeleteError(t *testing.T, res response) {
	t.Helper()
	res.wantError(t, http.StatusInternalServerError, apierr.CodeInternal,
		fmt.Sprintf("Failed to delete sessions (request id: %s)", res.Header.Get("X-Request-ID")))
}

// TestDeleteSessions_BackendsTerminated kills the server's own PostgreSQL
// connections, found by application_name, while bulk deletes run: half of
// them are blocked on a row lock the test holds, the rest run freely.
func TestDeleteSessions_BackendsTerminated(t *testing.T) {
	app := uniqueAppName(t)
	a := newAPIWith(t, testdb.PostgresURL(t), store.ConnSettings{ApplicationName: app, MaxOpenConns: 32})
	db := a.db["default"]
	const groups, size = 24, 20
	ids, types := make([][]string, groups), make([][]string, groups)
	var firsts []string
	for g := range groups {
		var rows []session
		ids[g], types[g], rows = group(fmt.Sprintf("g%d", g), size)
		a.seed("default", rows...)
		if g%2 == 0 {
			firsts = append(firsts, ids[g][size/2])
		}
	}
	release := lockSession(t, db, firsts...)

	results := make([]response, groups)
	var wg sync.WaitGroup
	for g := range groups {
		wg.Go(func() {
			results[g] = a.do(http.MethodDelete, "/sessions", deleteBody(ids[g], types[g]), "Content-Type", jsonCT)
		})
	}
	waitForLockWaiters(t, db, app, groups/2)
	if n := terminateBackends(t, db, app); n < groups/2 {
		t.Fatalf("terminated %d backends, want at least %d", n, groups/2)
	}
	wg.Wait()
	// Every blocked delete has answered while the lock is still held: had
	// one been retried on a fresh connection it would still be waiting.
	waitForLockWaiters(t, db, app, 0)
	release()

	for g := range groups {
		s, r := a.counts("default", store.DefaultTables, ids[g]...)
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
			if !(s == size && r == 2*size) && !(s == 0 && r == 0) {
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
				warm.Go(func() { a.do(http.MethodGet, "/sessions?limit=1", "") })
			}
			warm.Wait()
		}
		if n := terminateBackends(t, db, app); n == 0 {
			t.Fatal("no idle backends to terminate")
		}
		waitForBackends(t, db, app, "idle", 0)
		ids, types, rows := group("after", 3)
		a.seed("default", rows...)
		res := a.do(http.MethodDelete, "/sessions", deleteBody(ids, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("first delete after the kill: status %d (%s), want 204", res.Status, res.Body)
		}
		a.wantRows(ids, 0, 0)
		if res := a.do(http.MethodGet, "/ready", ""); res.Status != http.StatusOK {
			t.Errorf("GET /ready after the kill: %d %s, want 200", res.Status, res.Body)
		}
	})
}

// TestDeleteSessions_ClientHangsUp cancels a bulk delete that is blocked in
// the database: the request context must reach PostgreSQL, which abandons
// the statement, and the transaction must roll back.
func TestDeleteSessions_ClientHangsUp(t *testing.T) {
	app := uniqueAppName(t)
	a := newAPIWith(t, testdb.PostgresURL(t), store.ConnSettings{ApplicationName: app})
	db := a.db["default"]
	ids, types, rows := group("c", 30)
	a.seed("default", rows...)
	release := lockSession(t, db, ids[29])

	srv := httptest.NewServer(a.e)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+"/sessions", strings.NewReader(deleteBody(ids, types)))
	req.Header.Set("Content-Type", jsonCT)
	done := make(chan error, 1)
	go func() {
		res, err := srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("got status %d", res.StatusCode)
		}
		done <- err
	}()
	waitForLockWaiters(t, db, app, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context canceled", err)
	}
	// The server's statement stops waiting while the lock is still held.
	waitForLockWaiters(t, db, app, 0)
	waitForBackends(t, db, app, "active", 0)
	release()
	a.wantRows(ids, 30, 60)
}

// TestDeleteSessions_StatementTimeout bounds how long a delete waits for
// locks: with a statement timeout it fails, deleting nothing, while the
// lock is still held.
func TestDeleteSessions_StatementTimeout(t *testing.T) {
	a := newAPIWith(t, testdb.PostgresURL(t), store.ConnSettings{ApplicationName: uniqueAppName(t), StatementTimeout: 200 * time.Millisecond})
	ids, types, rows := group("st", 10)
	a.seed("default", rows...)
	release := lockSession(t, a.db["default"], ids[0])
	defer release()
	done := make(chan response, 1)
	go func() { done <- a.do(http.MethodDelete, "/sessions", deleteBody(ids, types), "Content-Type", jsonCT) }()
	select {
	case res := <-done:
		wantInternalDeleteError(t, res)
	case <-time.After(time.Minute): // a failsafe against a hang, not a measurement
		t.Fatal("the delete is still waiting for the lock: statement_timeout was not applied")
	}
	a.wantRows(ids, 10, 20)
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
	t.Cleanup(func() { ln.Close(); p.cut() })
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
		c.Close()
		return
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, upstream) {
		return
	}
	go func() { io.Copy(upstream, c); upstream.Close() }()
	io.Copy(c, upstream)
	c.Close()
}

// track registers a forwarded pair, or closes it when the proxy was cut
// while it was dialling.
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		if p.down {
			c.Close()
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
		c.Close()
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
	a := newAPIWith(t, through, store.ConnSettings{ApplicationName: uniqueAppName(t)})
	a.db["default"] = openDirect(t, direct)

	ids, types, rows := group("o", 6)
	a.seed("default", rows...)
	if res := a.do(http.MethodGet, "/ready", ""); res.Status != http.StatusOK || string(res.Body) != `{"status":"ready"}`+"\n" {
		t.Fatalf("GET /ready before the outage: %d %q, want 200", res.Status, res.Body)
	}
	if res := a.do(http.MethodDelete, "/sessions", deleteBody(ids[:2], types[:2]), "Content-Type", jsonCT); res.Status != http.StatusNoContent {
		t.Fatalf("delete before the outage: %d %s", res.Status, res.Body)
	}

	p.cut()
	res := a.do(http.MethodGet, "/ready", "")
	res.wantError(t, http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "Database 'default' is unreachable")
	wantInternalDeleteError(t, a.do(http.MethodDelete, "/sessions", deleteBody(ids[2:4], types[2:4]), "Content-Type", jsonCT))
	a.wantRows(ids[2:], 4, 8)
	if res := a.do(http.MethodGet, "/health", ""); res.Status != http.StatusOK {
		t.Errorf("GET /health during the outage: %d, want 200: the server stays up", res.Status)
	}

	p.restore()
	deadline := time.Now().Add(time.Minute)
	for a.do(http.MethodGet, "/ready", "").Status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("GET /ready still failing a minute after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := a.do(http.MethodDelete, "/sessions", deleteBody(ids[2:], types[2:]), "Content-Type", jsonCT); res.Status != http.StatusNoContent {
		t.Fatalf("delete after the outage: %d %s", res.Status, res.Body)
	}
	a.wantRows(ids, 0, 0)
}

// TestReady_NamesTheUnreachableDatabase configures two databases and cuts
// one: /ready names that one only, and the other keeps serving.
func TestReady_NamesTheUnreachableDatabase(t *testing.T) {
	p, through := proxied(t, testdb.PostgresURL(t))
	a := newMultiAPI(t, testConfig(),
		store.DatabaseConfig{ID: "local", URL: testdb.SQLiteURL(t)},
		store.DatabaseConfig{ID: "main", URL: through})
	if res := a.do(http.MethodGet, "/ready", ""); res.Status != http.StatusOK {
		t.Fatalf("GET /ready: %d %s, want 200", res.Status, res.Body)
	}
	p.cut()
	a.do(http.MethodGet, "/ready", "").wantError(t, http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "Database 'main' is unreachable")
	if res := a.do(http.MethodGet, "/sessions?db_id=local", ""); res.Status != http.StatusOK {
		t.Errorf("GET /sessions on the reachable database: %d %s, want 200", res.Status, res.Body)
	}
}
