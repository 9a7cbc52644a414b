package gate

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
)

func TestValidationSpec(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			src := `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
"components": {"schemas": {"Pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}]}}},
"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema": ` + tc.schema + `}}},
"responses": {"204": {"description": "ok"}}}}}}`
			if got := validationSpec(loadDocument(t, src)).OpenAPI; got != tc.want {
				t.Errorf("validator sees %q, want %q", got, tc.want)
			}
		})
	}
}

// loadDocument loads and checks an OpenAPI document written in the test.
func loadDocument(t *testing.T, src string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// guardKeywords are, for each schema field kin-openapi's
// schemaHasJSONSchema2020FallbackGuardKeyword reads, a schema that sets it.
var guardKeywords = map[string]string{
	"Const":                        `{"const": "x"}`,
	"PrefixItems":                  `{"type": "array", "prefixItems": [{"type": "string"}]}`,
	"Contains":                     `{"type": "array", "contains": {"type": "string"}}`,
	"PatternProperties":            `{"type": "object", "patternProperties": {"^a": {"type": "string"}}}`,
	"DependentSchemas":             `{"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}}`,
	"PropertyNames":                `{"type": "object", "propertyNames": {"maxLength": 3}}`,
	"UnevaluatedItems.Has":         `{"type": "array", "unevaluatedItems": false}`,
	"UnevaluatedItems.Schema":      `{"type": "array", "unevaluatedItems": {"type": "string"}}`,
	"UnevaluatedProperties.Has":    `{"type": "object", "unevaluatedProperties": false}`,
	"UnevaluatedProperties.Schema": `{"type": "object", "unevaluatedProperties": {"type": "string"}}`,
	"If":                           `{"if": {"type": "string"}}`,
	"Then":                         `{"then": {"type": "string"}}`,
	"Else":                         `{"else": {"type": "string"}}`,
	"DependentRequired":            `{"type": "object", "dependentRequired": {"a": ["b"]}}`,
	"Defs":                         `{"$defs": {"d": {"type": "string"}}}`,
	"ContentSchema":                `{"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "object"}}`,
}

// TestJSONSchema2020Only_IsKinOpenAPIsList pins jsonSchema2020Only, a copy
// of a private function of kin-openapi, to the library in go.mod: both must
// read the same schema fields, and guardKeywords must set each of them.
// When an upgrade changes the list, this fails: copy the new list, and add
// a schema for each new field to guardKeywords.
func TestJSONSchema2020Only_IsKinOpenAPIsList(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/getkin/kin-openapi").Output()
	if err != nil {
		t.Fatalf("find kin-openapi's source: go list: %v", err)
	}
	theirs := fieldsRead(t, filepath.Join(strings.TrimSpace(string(out)), "openapi3", "schema_jsonschema_validator.go"),
		"schemaHasJSONSchema2020FallbackGuardKeyword")
	ours := fieldsRead(t, "spec.go", "jsonSchema2020Only")
	if !slices.Equal(ours, theirs) {
		t.Errorf("jsonSchema2020Only reads %v,\nkin-openapi's schemaHasJSONSchema2020FallbackGuardKeyword reads %v", ours, theirs)
	}
	if covered := slices.Sorted(maps.Keys(guardKeywords)); !slices.Equal(covered, theirs) {
		t.Errorf("guardKeywords set %v, want one schema for each of %v", covered, theirs)
	}
}

// fieldsRead parses a Go file and lists, sorted, the fields of its
// parameter that the function named fn reads: schema.Const is "Const",
// schema.UnevaluatedItems.Has is "UnevaluatedItems.Has".
func fieldsRead(t *testing.T, path, fn string) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, decl := range file.Decls {
		f, ok := decl.(*ast.FuncDecl)
		if !ok || f.Name.Name != fn {
			continue
		}
		param := f.Type.Params.List[0].Names[0].Name
		ast.Inspect(f.Body, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			var path []string
			for {
				path = append([]string{sel.Sel.Name}, path...)
				switch x := sel.X.(type) {
				case *ast.SelectorExpr:
					sel = x
					continue
				case *ast.Ident:
					if x.Name == param {
						fields = append(fields, strings.Join(path, "."))
					}
				}
				return false
			}
		})
	}
	if len(fields) == 0 {
		t.Fatalf("%s: no function %s reading fields of its parameter", path, fn)
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}

// TestValidationSpec_FollowsKinOpenAPI checks, for each keyword on the
// list, what kin-openapi does with a 3.1 schema that has a reference and
// uses it: it validates with its JSON Schema 2020-12 validator, so the
// gate must keep the document 3.1; without any, it falls back to its own
// validator, which the gate selects by showing it 3.0.
func TestValidationSpec_FollowsKinOpenAPI(t *testing.T) {
	t.Parallel()
	cases := maps.Clone(guardKeywords)
	cases["None"] = `{"type": "string"}`
	for name, keyword := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
"components": {"schemas": {"Name": {"type": "string"}}},
"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema":
  {"type": "object", "properties": {"name": {"$ref": "#/components/schemas/Name"}, "k": ` + keyword + `}}}}},
"responses": {"204": {"description": "ok"}}}}}}`
			doc := loadDocument(t, src)
			schema := doc.Paths.Find("/x").Post.RequestBody.Value.Content.Get("application/json").Schema.Value
			err := schema.VisitJSON(map[string]any{"name": json.Number("1")}, openapi3.VisitAsRequest(), openapi3.EnableJSONSchema2020())
			if err == nil {
				t.Fatal("kin-openapi accepted a number for a string")
			}
			var verr *jsonschema.ValidationError
			kinUses2020 := errors.As(err, &verr)
			want := "3.0.3"
			if kinUses2020 {
				want = "3.1.0"
			}
			if wantUses2020 := name != "None"; kinUses2020 != wantUses2020 {
				t.Errorf("kin-openapi validates with JSON Schema 2020-12: %v, want %v (error %v)", kinUses2020, wantUses2020, err)
			}
			if got := validationSpec(doc).OpenAPI; got != want {
				t.Errorf("validator sees %q, want %q, as kin-openapi validates it", got, want)
			}
		})
	}
}
