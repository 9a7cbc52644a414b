package gate

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
)

func TestValidationSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(agentossessions.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if got := validationSpec(doc); got.OpenAPI != "3.0.3" || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi.yaml: validator sees %q (document %q), want 3.0.3 (document 3.1.0 unchanged)", got.OpenAPI, doc.OpenAPI)
	}

	for _, tc := range []struct {
		name, schema string
		want         string
	}{
		{"NullableOnly", `{"anyOf": [{"type": "string"}, {"type": "null"}]}`, "3.0.3"},
		{"Const", `{"type": "object", "properties": {"kind": {"const": "x"}}}`, "3.1.0"},
		{"PrefixItemsBehindRef", `{"$ref": "#/components/schemas/Pair"}`, "3.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
"components": {"schemas": {"Pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}]}}},
"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema": ` + tc.schema + `}}},
"responses": {"204": {"description": "ok"}}}}}}`
			doc, err := openapi3.NewLoader().LoadFromData([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := validationSpec(doc).OpenAPI; got != tc.want {
				t.Errorf("validator sees %q, want %q", got, tc.want)
			}
		})
	}
}
