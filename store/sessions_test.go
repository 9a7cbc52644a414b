package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// openTable opens a fresh database of one dialect and returns its default
// session table.
func openTable(t *testing.T, newURL newURL) (*Catalog, Sessions) {
	t.Helper()
	c := openCatalog(t, newURL(t))
	return c, resolve(t, c, "")
}

// jsonText renders v as JSON, maps with sorted keys, so that values read
// back (numbers as json.Number) compare equal to the values written.
func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// checkSame fails unless got and want have the same JSON rendering.
func checkSame(t testing.TB, what string, got, want any) {
	t.Helper()
	if g, w := jsonText(t, got), jsonText(t, want); g != w {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func checkNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
}

func mustCreate(t testing.TB, s Sessions, sessions ...Session) {
	t.Helper()
	for _, sess := range sessions {
		if _, err := s.CreateSession(context.Background(), sess); err != nil {
			t.Fatalf("CreateSession(%q): %v", sess.ID, err)
		}
	}
}

func mustCreateRun(t testing.TB, s Sessions, runs ...Run) {
	t.Helper()
	for _, r := range runs {
		if _, err := s.CreateRun(context.Background(), r, Owner{}); err != nil {
			t.Fatalf("CreateRun(%q, %q): %v", r.SessionID, r.ID, err)
		}
	}
}

func mustGet(t testing.TB, s Sessions, id string) Session {
	t.Helper()
	got, err := s.GetSession(context.Background(), id, Owner{})
	if err != nil {
		t.Fatalf("GetSession(%q): %v", id, err)
	}
	return got
}

// fullSession uses every column, with JSON that is easy to mangle: large
// and fractional numbers, nesting, nulls, HTML characters, non-ASCII text.
func fullSession(id string) Session {
	return Session{
		ID:         id,
		Type:       "agent",
		AgentID:    ptr("agent-1"),
		TeamID:     ptr("team-1"),
		WorkflowID: ptr("wf-1"),
		UserID:     ptr("alice"),
		SessionData: map[string]any{
			"session_name":  "Reise nach Köln <draft> & more",
			"session_state": map[string]any{"n": 1, "big": json.Number("12345678901234567890"), "f": 1.5},
			"list":          []any{1, "x", nil, true, map[string]any{}},
		},
		AgentData:    map[string]any{"model": "gpt", "temperature": 0.7},
		TeamData:     map[string]any{},
		WorkflowData: map[string]any{"steps": []any{}},
		Metadata:     map[string]any{"n": 1},
		Summary:      map[string]any{"summary": "short", "topics": []any{"a", "b"}},
		CreatedAt:    1700000000,
		UpdatedAt:    ptr(int64(1700000100)),
		Name:         "Reise nach Köln <draft> & more",
	}
}

func TestStore_CreateSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()

		t.Run("RoundTrip", func(t *testing.T) {
			_, s := openTable(t, newURL)
			want := fullSession("s1")
			got, err := s.CreateSession(ctx, want)
			if err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			checkSame(t, "returned session", got, want)
			checkSame(t, "stored session", mustGet(t, s, "s1"), want)
		})

		t.Run("NullsStayNull", func(t *testing.T) {
			_, s := openTable(t, newURL)
			want := Session{ID: "bare", Type: "team", CreatedAt: 5}
			got, err := s.CreateSession(ctx, want)
			if err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			for _, g := range []Session{got, mustGet(t, s, "bare")} {
				if g.AgentID != nil || g.UserID != nil || g.UpdatedAt != nil || g.SessionData != nil || g.Summary != nil || g.Metadata != nil {
					t.Errorf("got %+v, want NULL columns as nil", g)
				}
				checkSame(t, "session", g, want)
			}
		})

		t.Run("EmptyObjectIsNotNull", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "e", Type: "agent", Metadata: map[string]any{}, CreatedAt: 1})
			if got := mustGet(t, s, "e").Metadata; got == nil || len(got) != 0 {
				t.Errorf("metadata: got %#v, want an empty non-nil map", got)
			}
		})

		t.Run("ConflictLeavesRowUntouched", func(t *testing.T) {
			_, s := openTable(t, newURL)
			want := fullSession("dup")
			mustCreate(t, s, want)
			_, err := s.CreateSession(ctx, Session{ID: "dup", Type: "team", SessionData: map[string]any{"x": 1}, CreatedAt: 9})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("second CreateSession: got error %v, want ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), "create session: ") {
				t.Errorf("error: got %q, want it prefixed %q", err, "create session: ")
			}
			checkSame(t, "stored session", mustGet(t, s, "dup"), want)
		})
	})
}

func TestStore_GetSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		_, s := openTable(t, newURL)
		mustCreate(t, s,
			Session{ID: "alice-agent", Type: "agent", UserID: ptr("alice"), CreatedAt: 1},
			Session{ID: "anon", Type: "team", CreatedAt: 1},
			Session{ID: "empty-user", Type: "workflow", UserID: ptr(""), CreatedAt: 1},
		)
		for _, tc := range []struct {
			name  string
			id    string
			owner Owner
			found bool
		}{
			{"NoOwner", "alice-agent", Owner{}, true},
			{"TypeMatches", "alice-agent", Owner{Type: ptr("agent")}, true},
			{"UserMatches", "alice-agent", Owner{UserID: ptr("alice")}, true},
			{"BothMatch", "alice-agent", Owner{Type: ptr("agent"), UserID: ptr("alice")}, true},
			{"TypeMismatch", "alice-agent", Owner{Type: ptr("team")}, false},
			{"UserMismatch", "alice-agent", Owner{UserID: ptr("bob")}, false},
			{"UserMatchesTypeNot", "alice-agent", Owner{Type: ptr("team"), UserID: ptr("alice")}, false},
			{"NullUserNeverMatches", "anon", Owner{UserID: ptr("")}, false},
			{"NullUserWithoutFilter", "anon", Owner{Type: ptr("team")}, true},
			{"EmptyUserMatchesEmpty", "empty-user", Owner{UserID: ptr("")}, true},
			{"Missing", "nope", Owner{}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetSession(ctx, tc.id, tc.owner)
				if !tc.found {
					checkNotFound(t, "GetSession", err)
					if err != nil && !strings.HasPrefix(err.Error(), "get session: ") {
						t.Errorf("error: got %q, want it prefixed %q", err, "get session: ")
					}
					return
				}
				if err != nil {
					t.Fatalf("GetSession: %v", err)
				}
				if got.ID != tc.id {
					t.Errorf("id: got %q, want %q", got.ID, tc.id)
				}
			})
		}
	})
}

// listFixture is the table ListSessions is tested on. Its comments give
// each session's sort keys: created_at and COALESCE(updated_at, created_at).
var listFixture = []Session{
	{ID: "a", Type: "agent", AgentID: ptr("a1"), UserID: ptr("alice"), SessionData: map[string]any{"session_name": "Weekly Report"}, CreatedAt: 100},                        // 100 100
	{ID: "b", Type: "team", TeamID: ptr("t1"), UserID: ptr("bob"), SessionData: map[string]any{"session_name": "50%_off deal"}, CreatedAt: 200, UpdatedAt: ptr(int64(500))}, // 200 500
	{ID: "c", Type: "workflow", WorkflowID: ptr("w1"), UserID: ptr("alice"), SessionData: map[string]any{"session_name": "5000 off"}, CreatedAt: 300},                       // 300 300
	{ID: "d", Type: "agent", AgentID: ptr("a2"), SessionData: map[string]any{"session_name": "REPORT final"}, CreatedAt: 200, UpdatedAt: ptr(int64(300))},                   // 200 300
	{ID: "e", Type: "agent", AgentID: ptr("t1"), UserID: ptr("alice"), CreatedAt: 400},                                                                                      // 400 400
	{ID: "f", Type: "agent", AgentID: ptr("a1"), UserID: ptr(""), SessionData: map[string]any{"session_name": `back\slash`, "other": "report"}, CreatedAt: 500},             // 500 500
}

func ids(sessions []Session) []string {
	out := make([]string, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, s.ID)
	}
	return out
}

func TestStore_ListSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		_, s := openTable(t, newURL)
		mustCreate(t, s, listFixture...)

		// list sorts by created_at ascending, 100 a page, unless told.
		list := func(f ListFilter) ListFilter {
			if f.SortBy == "" {
				f.SortBy = "created_at"
			}
			if f.Limit == 0 {
				f.Limit = 100
			}
			if f.Page == 0 {
				f.Page = 1
			}
			return f
		}
		for _, tc := range []struct {
			name  string
			f     ListFilter
			want  []string
			total int64
		}{
			{"All", list(ListFilter{}), []string{"a", "b", "d", "c", "e", "f"}, 6},

			{"Type", list(ListFilter{Type: ptr("agent")}), []string{"a", "d", "e", "f"}, 4},
			{"TypeNone", list(ListFilter{Type: ptr("nope")}), []string{}, 0},
			{"ComponentAgent", list(ListFilter{ComponentID: ptr("a1")}), []string{"a", "f"}, 2},
			{"ComponentAnyColumn", list(ListFilter{ComponentID: ptr("t1")}), []string{"b", "e"}, 2},
			{"ComponentWorkflow", list(ListFilter{ComponentID: ptr("w1")}), []string{"c"}, 1},
			{"User", list(ListFilter{UserID: ptr("alice")}), []string{"a", "c", "e"}, 3},
			{"UserEmptyMatchesOnlyEmpty", list(ListFilter{UserID: ptr("")}), []string{"f"}, 1},
			{"UserNone", list(ListFilter{UserID: ptr("carol")}), []string{}, 0},

			{"NameCaseInsensitive", list(ListFilter{NameContains: ptr("report")}), []string{"a", "d"}, 2},
			{"NameUpperCase", list(ListFilter{NameContains: ptr("WEEKLY")}), []string{"a"}, 1},
			// Unescaped, % and _ would also match "5000 off".
			{"NameWildcardsLiteral", list(ListFilter{NameContains: ptr("50%_off")}), []string{"b"}, 1},
			{"NamePercent", list(ListFilter{NameContains: ptr("%")}), []string{"b"}, 1},
			{"NameUnderscore", list(ListFilter{NameContains: ptr("_")}), []string{"b"}, 1},
			{"NameBackslash", list(ListFilter{NameContains: ptr(`\`)}), []string{"f"}, 1},
			{"NameBackslashPair", list(ListFilter{NameContains: ptr(`k\s`)}), []string{"f"}, 1},
			{"NameOnlyInSessionName", list(ListFilter{NameContains: ptr("other")}), []string{}, 0},
			{"NameEmptyMatchesNamed", list(ListFilter{NameContains: ptr("")}), []string{"a", "b", "d", "c", "f"}, 5},

			{"TypeAndUser", list(ListFilter{Type: ptr("agent"), UserID: ptr("alice")}), []string{"a", "e"}, 2},
			{"TypeAndName", list(ListFilter{Type: ptr("agent"), NameContains: ptr("report")}), []string{"a", "d"}, 2},
			{"TypeComponentName", list(ListFilter{Type: ptr("agent"), ComponentID: ptr("a1"), NameContains: ptr("SLASH")}), []string{"f"}, 1},
			{"UserAndName", list(ListFilter{UserID: ptr("alice"), NameContains: ptr("off")}), []string{"c"}, 1},
			{"TypeAndUserNone", list(ListFilter{Type: ptr("team"), UserID: ptr("alice")}), []string{}, 0},
			{"AllFilters", list(ListFilter{Type: ptr("agent"), ComponentID: ptr("a1"), UserID: ptr("alice"), NameContains: ptr("week")}), []string{"a"}, 1},

			{"CreatedAsc", list(ListFilter{}), []string{"a", "b", "d", "c", "e", "f"}, 6},
			{"CreatedDesc", list(ListFilter{Descending: true}), []string{"f", "e", "c", "d", "b", "a"}, 6},
			{"UpdatedAsc", list(ListFilter{SortBy: "updated_at"}), []string{"a", "c", "d", "e", "b", "f"}, 6},
			{"UpdatedDesc", list(ListFilter{SortBy: "updated_at", Descending: true}), []string{"f", "b", "e", "d", "c", "a"}, 6},
			{"FilteredSorted", list(ListFilter{Type: ptr("agent"), SortBy: "updated_at", Descending: true}), []string{"f", "e", "d", "a"}, 4},

			{"Page1", list(ListFilter{Limit: 2, Page: 1}), []string{"a", "b"}, 6},
			{"Page2", list(ListFilter{Limit: 2, Page: 2}), []string{"d", "c"}, 6},
			{"Page3", list(ListFilter{Limit: 2, Page: 3}), []string{"e", "f"}, 6},
			{"PastTheEnd", list(ListFilter{Limit: 2, Page: 4}), []string{}, 6},
			{"PartialLastPage", list(ListFilter{Limit: 4, Page: 2}), []string{"e", "f"}, 6},
			{"PageDesc", list(ListFilter{Limit: 4, Page: 2, Descending: true}), []string{"b", "a"}, 6},
			{"FilteredPage", list(ListFilter{UserID: ptr("alice"), Limit: 2, Page: 2}), []string{"e"}, 3},
			{"FilteredPastTheEnd", list(ListFilter{UserID: ptr("alice"), Limit: 3, Page: 2}), []string{}, 3},
			{"HugePage", list(ListFilter{Limit: 1000, Page: math.MaxInt}), []string{}, 6},
			{"HugeLimit", list(ListFilter{Limit: math.MaxInt, Page: 1}), []string{"a", "b", "d", "c", "e", "f"}, 6},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.ListSessions(ctx, tc.f)
				if err != nil {
					t.Fatalf("ListSessions: %v", err)
				}
				if got == nil {
					t.Errorf("sessions: got nil, want a non-nil slice")
				}
				if g := ids(got); !slices.Equal(g, tc.want) {
					t.Errorf("sessions: got %v, want %v", g, tc.want)
				}
				if total != tc.total {
					t.Errorf("total: got %d, want %d", total, tc.total)
				}
			})
		}

		t.Run("ReturnsWholeRows", func(t *testing.T) {
			got, _, err := s.ListSessions(ctx, list(ListFilter{Type: ptr("team")}))
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			want := listFixture[1]
			want.Name = "50%_off deal"
			checkSame(t, "sessions", got, []Session{want})
		})

		t.Run("Invalid", func(t *testing.T) {
			for _, f := range []ListFilter{
				{SortBy: "session_name", Limit: 1, Page: 1},
				{SortBy: "", Limit: 1, Page: 1},
				{SortBy: "created_at", Limit: 0, Page: 1},
				{SortBy: "created_at", Limit: 1, Page: 0},
			} {
				if _, _, err := s.ListSessions(ctx, f); err == nil || !strings.HasPrefix(err.Error(), "list sessions: ") {
					t.Errorf("ListSessions(%+v): got error %v, want a list sessions error", f, err)
				}
			}
		})
	})
}

func TestStore_UpdateSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		base := func(id string) Session {
			return Session{
				ID:   id,
				Type: "agent",
				SessionData: map[string]any{
					"session_name":  "old",
					"session_state": map[string]any{"x": 1},
					"other":         "keep",
				},
				Metadata:  map[string]any{"m": 1},
				Summary:   map[string]any{"s": 1},
				CreatedAt: 100,
				UpdatedAt: ptr(int64(150)),
			}
		}
		// update applies p to a fresh copy of base and checks that the
		// returned row is the stored one and was stamped now.
		update := func(t *testing.T, s Sessions, id string, p SessionPatch) Session {
			t.Helper()
			before := time.Now().Unix()
			got, err := s.UpdateSession(ctx, id, Owner{}, p)
			if err != nil {
				t.Fatalf("UpdateSession: %v", err)
			}
			after := time.Now().Unix()
			if got.UpdatedAt == nil || *got.UpdatedAt < before || *got.UpdatedAt > after {
				t.Errorf("updated_at: got %v, want between %d and %d", got.UpdatedAt, before, after)
			}
			checkSame(t, "stored session", mustGet(t, s, id), got)
			return got
		}
		// stamped returns want with the updated_at that got was given, and
		// the name its session_data gives it.
		stamped := func(want, got Session) Session {
			want.UpdatedAt = got.UpdatedAt
			want.Name, _ = want.SessionData["session_name"].(string)
			return want
		}

		t.Run("SetsFields", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, base("s"))
			got := update(t, s, "s", SessionPatch{
				Name:     Optional[string]{Set: true, Value: ptr("new")},
				State:    Optional[map[string]any]{Set: true, Value: &map[string]any{"y": 2}},
				Metadata: Optional[map[string]any]{Set: true, Value: &map[string]any{"m": 2, "k": "v"}},
				Summary:  Optional[map[string]any]{Set: true, Value: &map[string]any{}},
			})
			want := base("s")
			want.SessionData = map[string]any{"session_name": "new", "session_state": map[string]any{"y": 2}, "other": "keep"}
			want.Metadata = map[string]any{"m": 2, "k": "v"}
			want.Summary = map[string]any{}
			checkSame(t, "session", got, stamped(want, got))
		})

		t.Run("NullClears", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, base("s"))
			got := update(t, s, "s", SessionPatch{
				Name:     Optional[string]{Set: true},
				State:    Optional[map[string]any]{Set: true},
				Metadata: Optional[map[string]any]{Set: true},
				Summary:  Optional[map[string]any]{Set: true},
			})
			want := base("s")
			want.SessionData = map[string]any{"other": "keep"}
			want.Metadata, want.Summary = nil, nil
			checkSame(t, "session", got, stamped(want, got))
			if got.Metadata != nil || got.Summary != nil {
				t.Errorf("metadata, summary: got %#v, %#v, want nil (NULL)", got.Metadata, got.Summary)
			}
		})

		t.Run("AbsentUntouched", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				patch SessionPatch
				edit  func(*Session)
			}{
				{"NameOnly", SessionPatch{Name: Optional[string]{Set: true, Value: ptr("n")}}, func(s *Session) { s.SessionData["session_name"] = "n" }},
				{"StateOnly", SessionPatch{State: Optional[map[string]any]{Set: true}}, func(s *Session) { delete(s.SessionData, "session_state") }},
				{"MetadataOnly", SessionPatch{Metadata: Optional[map[string]any]{Set: true, Value: &map[string]any{"z": true}}}, func(s *Session) { s.Metadata = map[string]any{"z": true} }},
				{"SummaryOnly", SessionPatch{Summary: Optional[map[string]any]{Set: true}}, func(s *Session) { s.Summary = nil }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, s := openTable(t, newURL)
					mustCreate(t, s, base("s"), fullSession("bystander"))
					got := update(t, s, "s", tc.patch)
					want := base("s")
					tc.edit(&want)
					checkSame(t, "session", got, stamped(want, got))
					checkSame(t, "other session", mustGet(t, s, "bystander"), fullSession("bystander"))
				})
			}
		})

		t.Run("NameIntoNullSessionData", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "team", CreatedAt: 1})
			got := update(t, s, "s", SessionPatch{Name: Optional[string]{Set: true, Value: ptr("named")}})
			checkSame(t, "session_data", got.SessionData, map[string]any{"session_name": "named"})
		})

		t.Run("ClearingKeysOfNullSessionDataWritesAnObject", func(t *testing.T) {
			// agno's own rename fails on a session_data that is not an
			// object; what this server writes is always one.
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "team", CreatedAt: 1})
			got := update(t, s, "s", SessionPatch{Name: Optional[string]{Set: true}, State: Optional[map[string]any]{Set: true}})
			checkSame(t, "session_data", got.SessionData, map[string]any{})
		})

		t.Run("EmptyPatchChangesNothing", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, base("s"))
			got, err := s.UpdateSession(ctx, "s", Owner{Type: ptr("agent")}, SessionPatch{})
			if err != nil {
				t.Fatalf("UpdateSession: %v", err)
			}
			want := base("s")
			want.Name = "old"
			checkSame(t, "returned session", got, want)
			checkSame(t, "stored session", mustGet(t, s, "s"), want)
		})

		t.Run("RunsUntouched", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, base("s"))
			mustCreateRun(t, s, Run{ID: "r1", SessionID: "s", Status: ptr("RUNNING"), Data: map[string]any{"a": 1}, CreatedAt: 110})
			_, before, err := s.ListRuns(ctx, "s", Owner{}, RunFilter{})
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			update(t, s, "s", SessionPatch{Name: Optional[string]{Set: true, Value: ptr("x")}, Summary: Optional[map[string]any]{Set: true}})
			_, after, err := s.ListRuns(ctx, "s", Owner{}, RunFilter{})
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			checkSame(t, "runs", after, before)
		})

		t.Run("NotFound", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", UserID: ptr("alice"), CreatedAt: 1})
			patch := SessionPatch{Name: Optional[string]{Set: true, Value: ptr("x")}}
			for _, tc := range []struct {
				id    string
				owner Owner
				patch SessionPatch
			}{
				{"nope", Owner{}, patch},
				{"s", Owner{Type: ptr("team")}, patch},
				{"s", Owner{UserID: ptr("bob")}, patch},
				{"s", Owner{UserID: ptr("bob")}, SessionPatch{}},
				{"nope", Owner{}, SessionPatch{}},
			} {
				_, err := s.UpdateSession(ctx, tc.id, tc.owner, tc.patch)
				checkNotFound(t, fmt.Sprintf("UpdateSession(%q, %+v)", tc.id, tc.owner), err)
				if err != nil && !strings.HasPrefix(err.Error(), "update session: ") {
					t.Errorf("error: got %q, want it prefixed %q", err, "update session: ")
				}
			}
			checkSame(t, "stored session", mustGet(t, s, "s"), Session{ID: "s", Type: "agent", UserID: ptr("alice"), CreatedAt: 1})
		})

		t.Run("ReadsUnderRowLock", func(t *testing.T) {
			// Another transaction holds the row and changes session_data.
			// The patch must wait for it and apply to what it committed; had
			// the patch read without locking, its write would put back the
			// session_data it read before, losing "from_other".
			c, s := openTable(t, newURL)
			d := c.byID["main"]
			if d.dialect != DialectPostgres {
				t.Skip("SQLite write transactions lock the whole database from BEGIN")
			}
			mustCreate(t, s, base("s"))
			other, err := d.sqlDB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatalf("begin: %v", err)
			}
			defer func() { _ = other.Rollback() }()
			var pid int
			if err := other.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				t.Fatalf("backend pid: %v", err)
			}
			if _, err := other.ExecContext(ctx, `UPDATE agno_sessions SET session_data = session_data || '{"from_other": 1}' WHERE session_id = 's'`); err != nil {
				t.Fatalf("update in other transaction: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := s.UpdateSession(ctx, "s", Owner{}, SessionPatch{Name: Optional[string]{Set: true, Value: ptr("new")}})
				done <- err
			}()
			// Commit once the patch is waiting on the other transaction.
			for {
				var waiting int
				if err := d.sqlDB.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&waiting); err != nil {
					t.Fatalf("look for waiters: %v", err)
				}
				if waiting > 0 {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("UpdateSession finished (error %v) while another transaction held the row", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			if err := other.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("UpdateSession: %v", err)
			}
			want := map[string]any{"session_name": "new", "session_state": map[string]any{"x": 1}, "other": "keep", "from_other": 1}
			checkSame(t, "session_data", mustGet(t, s, "s").SessionData, want)
		})

		t.Run("ConcurrentPatchesAllApply", func(t *testing.T) {
			// Each patch rewrites session_data; without the row lock one
			// would overwrite the other's key with what it read before.
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", CreatedAt: 1})
			const workers = 8
			var wg sync.WaitGroup
			errs := make([]error, workers)
			for i := range workers {
				wg.Go(func() {
					p := SessionPatch{Name: Optional[string]{Set: true, Value: ptr(fmt.Sprint(i))}}
					if i%2 == 1 {
						p = SessionPatch{State: Optional[map[string]any]{Set: true, Value: &map[string]any{"i": i}}}
					}
					_, errs[i] = s.UpdateSession(ctx, "s", Owner{}, p)
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Errorf("UpdateSession: %v", err)
				}
			}
			data := mustGet(t, s, "s").SessionData
			if _, ok := data["session_name"]; !ok {
				t.Errorf("session_data: got %v, want session_name kept", data)
			}
			if _, ok := data["session_state"]; !ok {
				t.Errorf("session_data: got %v, want session_state kept", data)
			}
		})
	})
}

func TestStore_DeleteSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()

		t.Run("CascadesRuns", func(t *testing.T) {
			c, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", CreatedAt: 1}, Session{ID: "keep", Type: "agent", CreatedAt: 1})
			mustCreateRun(t, s,
				Run{ID: "r1", SessionID: "s", CreatedAt: 1},
				Run{ID: "r2", SessionID: "s", CreatedAt: 2},
				Run{ID: "k1", SessionID: "keep", CreatedAt: 1},
			)
			if err := s.DeleteSession(ctx, "s", Owner{Type: ptr("agent")}); err != nil {
				t.Fatalf("DeleteSession: %v", err)
			}
			_, err := s.GetSession(ctx, "s", Owner{})
			checkNotFound(t, "GetSession after delete", err)
			checkRemaining(t, c, DefaultTables, map[string]int64{"keep": 1})
		})

		t.Run("NotFound", func(t *testing.T) {
			c, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", UserID: ptr("alice"), CreatedAt: 1}, Session{ID: "anon", Type: "agent", CreatedAt: 1})
			mustCreateRun(t, s, Run{ID: "r", SessionID: "s", CreatedAt: 1})
			for _, tc := range []struct {
				id    string
				owner Owner
			}{
				{"nope", Owner{}},
				{"s", Owner{Type: ptr("team")}},
				{"s", Owner{UserID: ptr("bob")}},
				{"s", Owner{Type: ptr("agent"), UserID: ptr("")}},
				{"anon", Owner{UserID: ptr("")}},
			} {
				err := s.DeleteSession(ctx, tc.id, tc.owner)
				checkNotFound(t, fmt.Sprintf("DeleteSession(%q, %+v)", tc.id, tc.owner), err)
				if err != nil && !strings.HasPrefix(err.Error(), "delete session: ") {
					t.Errorf("error: got %q, want it prefixed %q", err, "delete session: ")
				}
			}
			checkRemaining(t, c, DefaultTables, map[string]int64{"s": 1, "anon": 0})
		})
	})
}

// recorded is r as CreateRun stores it in a session of type typ, at
// run_index index: run_data holds the whole run, with its id, session,
// creation time, status and component ids, and updated_at defaults to
// created_at.
func recorded(r Run, typ string, index int64) Run {
	data := map[string]any{}
	for k, v := range r.Data {
		data[k] = v
	}
	data["run_id"], data["session_id"], data["created_at"] = r.ID, r.SessionID, r.CreatedAt
	for k, v := range map[string]*string{"status": r.Status, "agent_id": r.AgentID, "team_id": r.TeamID,
		"workflow_id": r.WorkflowID, "parent_run_id": r.ParentRunID} {
		if v != nil {
			data[k] = *v
		}
	}
	r.Data, r.Type, r.Index = data, &typ, &index
	if r.UpdatedAt == nil {
		r.UpdatedAt = &r.CreatedAt
	}
	return r
}

func runIDs(runs []Run) []string {
	out := make([]string, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

func TestStore_ListRuns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		_, s := openTable(t, newURL)
		mustCreate(t, s,
			Session{ID: "s", Type: "agent", UserID: ptr("alice"), SessionData: map[string]any{"session_name": "S"}, CreatedAt: 1},
			Session{ID: "other", Type: "agent", CreatedAt: 1},
			Session{ID: "empty", Type: "agent", CreatedAt: 1},
		)
		mustCreateRun(t, s,
			Run{ID: "r0", SessionID: "s", CreatedAt: 300},
			Run{ID: "r2", SessionID: "s", CreatedAt: 200},
			Run{ID: "r1", SessionID: "s", CreatedAt: 200},
			Run{ID: "r3", SessionID: "s", CreatedAt: 100},
			Run{ID: "x", SessionID: "other", CreatedAt: 200},
		)
		for _, tc := range []struct {
			name   string
			filter RunFilter
			want   []string
		}{
			// agno's order: run_index (the order they were recorded in),
			// then created_at, then run_id.
			{"All", RunFilter{}, []string{"r0", "r2", "r1", "r3"}},
			{"AfterInclusive", RunFilter{CreatedAfter: ptr(int64(200))}, []string{"r0", "r2", "r1"}},
			{"BeforeInclusive", RunFilter{CreatedBefore: ptr(int64(200))}, []string{"r2", "r1", "r3"}},
			{"BothOnOneSecond", RunFilter{CreatedAfter: ptr(int64(200)), CreatedBefore: ptr(int64(200))}, []string{"r2", "r1"}},
			{"Between", RunFilter{CreatedAfter: ptr(int64(101)), CreatedBefore: ptr(int64(299))}, []string{"r2", "r1"}},
			{"NoneInRange", RunFilter{CreatedAfter: ptr(int64(301))}, []string{}},
			{"EmptyRange", RunFilter{CreatedAfter: ptr(int64(300)), CreatedBefore: ptr(int64(100))}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sess, runs, err := s.ListRuns(ctx, "s", Owner{Type: ptr("agent"), UserID: ptr("alice")}, tc.filter)
				if err != nil {
					t.Fatalf("ListRuns: %v", err)
				}
				if runs == nil {
					t.Errorf("runs: got nil, want a non-nil slice")
				}
				if got := runIDs(runs); !slices.Equal(got, tc.want) {
					t.Errorf("runs: got %v, want %v", got, tc.want)
				}
				if sess.ID != "s" || sess.SessionData["session_name"] != "S" {
					t.Errorf("session: got %+v, want s", sess)
				}
			})
		}

		t.Run("NoRuns", func(t *testing.T) {
			sess, runs, err := s.ListRuns(ctx, "empty", Owner{}, RunFilter{})
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			if runs == nil || len(runs) != 0 || sess.ID != "empty" {
				t.Errorf("got session %q, runs %#v, want session empty and no runs", sess.ID, runs)
			}
		})

		t.Run("NotFound", func(t *testing.T) {
			for _, tc := range []struct {
				id    string
				owner Owner
			}{
				{"nope", Owner{}},
				{"s", Owner{Type: ptr("team")}},
				{"s", Owner{UserID: ptr("bob")}},
				{"other", Owner{UserID: ptr("")}},
			} {
				_, runs, err := s.ListRuns(ctx, tc.id, tc.owner, RunFilter{})
				checkNotFound(t, fmt.Sprintf("ListRuns(%q, %+v)", tc.id, tc.owner), err)
				if runs != nil {
					t.Errorf("runs: got %v, want nil on error", runs)
				}
			}
		})
	})
}

func TestStore_GetRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		_, s := openTable(t, newURL)
		mustCreate(t, s, fullSession("s"), Session{ID: "other", Type: "team", CreatedAt: 1})
		run := Run{
			ID: "r", SessionID: "s", AgentID: ptr("agent-1"), UserID: ptr("alice"), ParentRunID: ptr("p"),
			Status: ptr("COMPLETED"), Data: map[string]any{"content": "hi", "metrics": map[string]any{"tokens": 12}},
			CreatedAt: 1700000001, UpdatedAt: ptr(int64(1700000002)),
		}
		mustCreateRun(t, s, run, Run{ID: "o", SessionID: "other", CreatedAt: 1})

		t.Run("Found", func(t *testing.T) {
			sess, got, err := s.GetRun(ctx, "s", "r", Owner{Type: ptr("agent"), UserID: ptr("alice")})
			if err != nil {
				t.Fatalf("GetRun: %v", err)
			}
			checkSame(t, "run", got, recorded(run, "agent", 0))
			checkSame(t, "session", sess, fullSession("s"))
			var raw map[string]any
			if err := json.Unmarshal(got.Raw, &raw); err != nil {
				t.Fatalf("Raw %q: %v", got.Raw, err)
			}
			checkSame(t, "run's stored text", raw, got.Data)
		})

		t.Run("NotFound", func(t *testing.T) {
			for _, tc := range []struct {
				name, session, run string
				owner              Owner
			}{
				{"MissingRun", "s", "nope", Owner{}},
				{"MissingSession", "nope", "r", Owner{}},
				{"RunOfAnotherSession", "s", "o", Owner{}},
				{"TypeMismatch", "s", "r", Owner{Type: ptr("team")}},
				{"UserMismatch", "s", "r", Owner{UserID: ptr("bob")}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, _, err := s.GetRun(ctx, tc.session, tc.run, tc.owner)
					checkNotFound(t, "GetRun", err)
					if err != nil && !strings.HasPrefix(err.Error(), "get run: ") {
						t.Errorf("error: got %q, want it prefixed %q", err, "get run: ")
					}
				})
			}
		})
	})
}

func TestStore_CreateRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()

		t.Run("RoundTrip", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", UserID: ptr("alice"), CreatedAt: 1})
			want := Run{
				ID: "r", SessionID: "s", AgentID: ptr("a"), TeamID: ptr("t"), WorkflowID: ptr("w"), UserID: ptr("alice"),
				ParentRunID: ptr("p"), Status: ptr("RUNNING"),
				Data:      map[string]any{"n": 1, "big": json.Number("98765432109876543210"), "text": "<b>&</b>", "nested": []any{nil, 2.5}},
				CreatedAt: 1700000000, UpdatedAt: ptr(int64(1700000005)),
			}
			got, err := s.CreateRun(ctx, want, Owner{Type: ptr("agent"), UserID: ptr("alice")})
			if err != nil {
				t.Fatalf("CreateRun: %v", err)
			}
			checkSame(t, "returned run", got, recorded(want, "agent", 0))
			_, stored, err := s.GetRun(ctx, "s", "r", Owner{})
			if err != nil {
				t.Fatalf("GetRun: %v", err)
			}
			checkSame(t, "stored run", stored, recorded(want, "agent", 0))
		})

		t.Run("OptionalColumnsStayNull", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "workflow", CreatedAt: 1})
			want := Run{ID: "r", SessionID: "s", CreatedAt: 7}
			got, err := s.CreateRun(ctx, want, Owner{})
			if err != nil {
				t.Fatalf("CreateRun: %v", err)
			}
			if got.Status != nil || got.AgentID != nil || got.UserID != nil || got.ParentRunID != nil {
				t.Errorf("got %+v, want NULL columns as nil", got)
			}
			checkSame(t, "run", got, recorded(want, "workflow", 0))
		})

		t.Run("IndexFollowsTheSessionsRuns", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "team", CreatedAt: 1}, Session{ID: "s2", Type: "team", CreatedAt: 1})
			mustCreateRun(t, s, Run{ID: "a", SessionID: "s", CreatedAt: 1}, Run{ID: "b", SessionID: "s", CreatedAt: 1},
				Run{ID: "c", SessionID: "s2", CreatedAt: 1})
			_, runs, err := s.ListRuns(ctx, "s", Owner{}, RunFilter{})
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			if len(runs) != 2 || *runs[0].Index != 0 || *runs[1].Index != 1 || *runs[0].Type != "team" {
				t.Errorf("runs: got %s, want a at index 0 and b at 1, run_type team", jsonText(t, runs))
			}
		})

		t.Run("DuplicateConflicts", func(t *testing.T) {
			_, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", CreatedAt: 1}, Session{ID: "s2", Type: "agent", CreatedAt: 1})
			first := Run{ID: "r", SessionID: "s", Status: ptr("COMPLETED"), Data: map[string]any{"v": 1}, CreatedAt: 1}
			mustCreateRun(t, s, first)
			_, err := s.CreateRun(ctx, Run{ID: "r", SessionID: "s", Status: ptr("ERROR"), CreatedAt: 2}, Owner{})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("duplicate CreateRun: got error %v, want ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), "create run: ") {
				t.Errorf("error: got %q, want it prefixed %q", err, "create run: ")
			}
			_, stored, err := s.GetRun(ctx, "s", "r", Owner{})
			if err != nil {
				t.Fatalf("GetRun: %v", err)
			}
			checkSame(t, "stored run", stored, recorded(first, "agent", 0))
			// Run ids are unique across sessions, as agno keys runs by
			// run_id alone; the other session's run is left as it was.
			if _, err := s.CreateRun(ctx, Run{ID: "r", SessionID: "s2", CreatedAt: 1}, Owner{}); !errors.Is(err, ErrConflict) {
				t.Errorf("same run id in another session: got error %v, want ErrConflict", err)
			}
			if _, stored, err = s.GetRun(ctx, "s", "r", Owner{}); err != nil {
				t.Fatalf("GetRun: %v", err)
			}
			checkSame(t, "stored run", stored, recorded(first, "agent", 0))
		})

		t.Run("NotFound", func(t *testing.T) {
			c, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "s", Type: "agent", UserID: ptr("alice"), CreatedAt: 1}, Session{ID: "anon", Type: "agent", CreatedAt: 1})
			mustCreateRun(t, s, Run{ID: "taken", SessionID: "s", CreatedAt: 1})
			for _, tc := range []struct {
				name    string
				session string
				run     string
				owner   Owner
			}{
				{"MissingSession", "nope", "r", Owner{}},
				{"TypeMismatch", "s", "r", Owner{Type: ptr("team")}},
				{"UserMismatch", "s", "r", Owner{UserID: ptr("bob")}},
				{"NullUser", "anon", "r", Owner{UserID: ptr("")}},
				// Owner first: a run id taken in someone else's session
				// must not tell that the session exists.
				{"MismatchBeatsConflict", "s", "taken", Owner{UserID: ptr("bob")}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := s.CreateRun(ctx, Run{ID: tc.run, SessionID: tc.session, CreatedAt: 1}, tc.owner)
					checkNotFound(t, "CreateRun", err)
				})
			}
			checkRemaining(t, c, DefaultTables, map[string]int64{"s": 1, "anon": 0})
		})
	})
}

// TestStore_ListPagesMatchPlainStatements compares every page the store
// returns (keys chosen first, then rows: a deferred join) with a plain
// OFFSET statement over the same rows, for each single filter, both sorts
// and directions, many ties in the sort keys, and pages past the end.
func TestStore_ListPagesMatchPlainStatements(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		c, s := openTable(t, newURL)
		d := c.byID["main"]
		var sessions []Session
		for i := range 120 {
			typ := []string{"agent", "team", "workflow"}[i%3]
			sess := Session{ID: fmt.Sprintf("s%03d", i), Type: typ, UserID: ptr(fmt.Sprintf("u%d", i%4)),
				SessionData: map[string]any{"session_name": fmt.Sprintf("topic %d", i%10)}, CreatedAt: int64(100 + i%5)}
			if i%2 == 0 {
				sess.UpdatedAt = ptr(int64(200 + i%3))
			}
			switch typ {
			case "agent":
				sess.AgentID = ptr(fmt.Sprintf("c%d", i%6))
			case "team":
				sess.TeamID = ptr(fmt.Sprintf("c%d", i%6))
			default:
				sess.WorkflowID = ptr(fmt.Sprintf("c%d", i%6))
			}
			sessions = append(sessions, sess)
		}
		mustCreate(t, s, sessions...)
		filters := map[string]ListFilter{
			"None": {}, "Type": {Type: ptr("team")}, "User": {UserID: ptr("u1")},
			"Component": {ComponentID: ptr("c2")}, "Name": {NameContains: ptr("topic 3")},
		}
		for name, f := range filters {
			for _, sortBy := range []string{"created_at", "updated_at"} {
				for _, desc := range []bool{false, true} {
					for _, page := range []int{1, 2, 4, 50} {
						f := f
						f.SortBy, f.Descending, f.Limit, f.Page = sortBy, desc, 7, page
						got, total, err := s.ListSessions(ctx, f)
						if err != nil {
							t.Fatalf("%s: ListSessions: %v", name, err)
						}
						tbl := d.tables[0]
						q := tbl.state.Load().sql
						where := tbl.listWhere(q, f)
						dir := " ASC"
						if desc {
							dir = " DESC"
						}
						plain := where.after("SELECT s.session_id FROM " + q.sessions + " AS s")
						plain.add(" ORDER BY ", sortKeys[sortBy], dir, ", s.session_id", dir, " LIMIT 7 OFFSET ", plain.arg(int64((page-1)*7)))
						rows, err := plain.query(ctx, d.sqlDB)
						if err != nil {
							t.Fatalf("%s: plain statement: %v", name, err)
						}
						want := []string{}
						for rows.Next() {
							var id string
							if err := rows.Scan(&id); err != nil {
								t.Fatal(err)
							}
							want = append(want, id)
						}
						rows.Close()
						var wantTotal int64
						if err := where.after("SELECT count(*) FROM "+q.sessions+" AS s").queryRow(ctx, d.sqlDB).Scan(&wantTotal); err != nil {
							t.Fatal(err)
						}
						if g := ids(got); !slices.Equal(g, want) || total != wantTotal {
							t.Errorf("%s by %s desc=%t page %d: got %v (%d), want %v (%d)", name, sortBy, desc, page, g, total, want, wantTotal)
						}
					}
				}
			}
		}
	})
}
