package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// TestServedDocument checks that the document is served without
// authentication, even when the API needs a key; TestDocs_Pages checks the
// references the same way.
func TestServedDocument(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.SecurityKey = "secret"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)

	t.Run("YAMLByteForByte", func(t *testing.T) {
		t.Parallel()
		res := a.Do(t, http.MethodGet, "/openapi.yaml", "")
		if res.Status != http.StatusOK {
			t.Fatalf("status = %d, want 200", res.Status)
		}
		if !bytes.Equal(res.Body, agentossessions.OpenAPI) {
			t.Errorf("GET /openapi.yaml: got %d bytes that differ from the committed openapi.yaml (%d bytes)", len(res.Body), len(agentossessions.OpenAPI))
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/yaml" {
			t.Errorf("Content-Type = %q, want application/yaml", ct)
		}
	})

	t.Run("JSONFaithful", func(t *testing.T) {
		t.Parallel()
		res := a.Do(t, http.MethodGet, "/openapi.json", "")
		if res.Status != http.StatusOK {
			t.Fatalf("status = %d, want 200", res.Status)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		var got any
		if err := json.Unmarshal(res.Body, &got); err != nil {
			t.Fatalf("GET /openapi.json is not JSON: %v", err)
		}
		if want := yamlAsJSON(t, agentossessions.OpenAPI); !reflect.DeepEqual(got, want) {
			t.Errorf("GET /openapi.json differs from openapi.yaml")
		}
		// What the generator's re-marshalled copy would lose.
		for _, s := range []string{`"servers": []`, `"security": []`} {
			if !bytes.Contains(res.Body, []byte(s)) {
				t.Errorf("GET /openapi.json lacks %s", s)
			}
		}
		// Key order is the document's.
		if !bytes.HasPrefix(res.Body, []byte("{\n  \"openapi\": \"3.1.0\",\n  \"info\"")) {
			t.Errorf("GET /openapi.json starts %q, want openapi then info", res.Body[:40])
		}
		doc, err := openapi3.NewLoader().LoadFromData(res.Body)
		if err != nil {
			t.Fatalf("load /openapi.json: %v", err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("validate /openapi.json: %v", err)
		}
		if doc.Paths.Find("/sessions").Delete.OperationID != "delete_sessions" {
			t.Errorf("DELETE /sessions operationId = %q, want delete_sessions", doc.Paths.Find("/sessions").Delete.OperationID)
		}
	})

	t.Run("APIStillNeedsKey", func(t *testing.T) {
		t.Parallel()
		a.Do(t, http.MethodGet, "/sessions", "").WantError(t, http.StatusUnauthorized, "UNAUTHENTICATED", "Authorization header required")
	})
}

// TestRequestExamples sends the examples openapi.yaml gives, which /docs
// and /redoc show and "Try it out" pre-fills, through the whole stack in
// an order that makes each one succeed: an example the server refuses is a
// bad example.
func TestRequestExamples(t *testing.T) {
	t.Parallel()
	doc := testkit.Document(t)
	type route struct {
		method, path string
		op           *openapi3.Operation
	}
	ops := map[string]route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = route{method, path, op}
		}
	}
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	a.Seed(t, testkit.Session{ID: "s-2", Type: "team"})
	order := []string{"create_session", "record_session_run", "get_session_run", "update_session", "rename_session", "delete_sessions"}
	withBody := 0
	for _, id := range order {
		o, ok := ops[id]
		if !ok {
			t.Fatalf("no operation %s in openapi.yaml", id)
		}
		target := o.path
		for _, p := range o.op.Parameters {
			if p.Value.In == openapi3.ParameterInPath {
				if p.Value.Example == nil {
					t.Errorf("%s: path parameter %s has no example", id, p.Value.Name)
					continue
				}
				target = strings.ReplaceAll(target, "{"+p.Value.Name+"}", fmt.Sprint(p.Value.Example))
			}
		}
		var body []byte
		if o.op.RequestBody != nil {
			withBody++
			example := o.op.RequestBody.Value.Content.Get("application/json").Example
			if example == nil {
				t.Errorf("%s: request body has no example", id)
				continue
			}
			var err error
			if body, err = json.Marshal(example); err != nil {
				t.Fatal(err)
			}
		}
		res := a.Do(t, o.method, target, string(body), "Content-Type", "application/json")
		if res.Status/100 != 2 {
			t.Errorf("%s %s with the example %s: status %d (%s)", o.method, target, body, res.Status, res.Body)
		}
	}
	for _, o := range ops {
		if o.op.RequestBody != nil {
			withBody--
		}
	}
	if withBody != 0 {
		t.Errorf("an operation with a request body is missing from the order: add it")
	}
	a.WantRows(t, []string{"s-1", "s-2"}, 0, 0)
}

// yamlAsJSON decodes YAML the way a JSON reader would see it, by a path
// independent of the server's converter: yaml.v3 to Go values, mapping keys
// as strings, through encoding/json.
func yamlAsJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse yaml: %v", err)
	}
	b, err := json.Marshal(stringKeys(v))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = stringKeys(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = stringKeys(x)
		}
		return v
	default:
		return v
	}
}
