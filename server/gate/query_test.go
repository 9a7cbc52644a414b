package gate_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// TestRepeatedQueryParameter sends every query parameter of every
// operation twice, and three times: a 422 that names it, before anything
// reads either value.
func TestRepeatedQueryParameter(t *testing.T) {
	t.Parallel()
	doc := testkit.Document(t)
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1})
	checked := 0
	for path, item := range doc.Paths.Map() {
		target := strings.NewReplacer("{session_id}", "a1", "{run_id}", "a1-run-0").Replace(path)
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.In != openapi3.ParameterInQuery {
					continue
				}
				checked++
				name := p.Value.Name
				t.Run(op.OperationID+" "+name, func(t *testing.T) {
					t.Parallel()
					for _, n := range []int{2, 3} {
						query := url.Values{name: make([]string, n)}
						a.Do(t, method, target+"?"+query.Encode(), "{}", "Content-Type", "application/json").
							WantError(t, 422, "VALIDATION_ERROR", fmt.Sprintf("query.%s: give the parameter once, not %d times", name, n))
					}
				})
			}
		}
	}
	if checked == 0 {
		t.Fatal("no query parameters in openapi.yaml")
	}
	a.WantRows(t, []string{"a1"}, 1, 1)
}
