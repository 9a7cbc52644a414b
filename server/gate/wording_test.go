package gate

import (
	"errors"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSchemaProblem_NotNull checks that a null where a schema takes none is
// worded the same whichever validator kin-openapi uses: its own, which the
// gate selects for openapi.yaml, or the JSON Schema 2020-12 one, which it
// uses for a 3.1 document with a 2020-12 keyword (validationSpec).
func TestSchemaProblem_NotNull(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ schema, want string }{
		{`{"type": "array", "items": {"type": "string"}}`, "must be a list, not null"},
		{`{"type": "object"}`, "must be an object, not null"},
		{`{"type": "string"}`, "must be a string, not null"},
		{`{"type": "integer"}`, "must be an integer, not null"},
		{`{"type": "number"}`, "must be a number, not null"},
		{`{"type": "boolean"}`, "must be true or false, not null"},
	} {
		for _, validator := range []struct {
			name   string
			is2020 bool
		}{{"KinOpenAPI", false}, {"JSONSchema2020", true}} {
			t.Run(validator.name+" "+tc.schema, func(t *testing.T) {
				t.Parallel()
				src := `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema":
  {"type": "object", "properties": {"v": ` + tc.schema + `}}}}},
"responses": {"204": {"description": "ok"}}}}}}`
				schema := loadDocument(t, src).Paths.Find("/x").Post.RequestBody.Value.Content.Get("application/json").Schema.Value
				opts := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest()}
				if validator.is2020 {
					opts = append(opts, openapi3.EnableJSONSchema2020())
				}
				err := schema.VisitJSON(map[string]any{"v": nil}, opts...)
				var schemaErr *openapi3.SchemaError
				if !errors.As(err, &schemaErr) {
					t.Fatalf("error %v, want a schema error", err)
				}
				var verr *jsonschema.ValidationError
				if got := errors.As(err, &verr); got != validator.is2020 {
					t.Fatalf("validated with JSON Schema 2020-12: %v, want %v", got, validator.is2020)
				}
				path, reason := schemaProblem(schemaErr)
				if got := strings.Join(path, "."); got != "v" || reason != tc.want {
					t.Errorf("schemaProblem = %q %q, want \"v\" %q", got, reason, tc.want)
				}
			})
		}
	}
}
