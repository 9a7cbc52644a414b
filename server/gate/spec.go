package gate

import (
	"errors"

	"github.com/getkin/kin-openapi/openapi3"
)

// validationSpec is the document kin-openapi checks parameters against. For a
// 3.1 document kin-openapi (v0.153.0) validates every body and parameter
// with a JSON Schema 2020-12 validator that it converts and compiles again
// on every request: for a DELETE /sessions of one id that is 1,470 of its
// 1,640 allocations and a quarter of its time (BENCHMARKS.md). Its own
// validator checks the same schemas, including "anyOf: [T, null]", as long
// as none uses a keyword only JSON Schema 2020-12 has (const, prefixItems,
// if/then/else, …: the list kin-openapi itself checks before it falls back
// to its own validator). So when openapi.yaml uses none of them, the routes
// see it as 3.0, which selects that validator; the document is unchanged.
func validationSpec(doc *openapi3.T) *openapi3.T {
	if !doc.IsOpenAPI31OrLater() || usesJSONSchema2020Keywords(doc) {
		return doc
	}
	spec := *doc
	spec.OpenAPI = "3.0.3"
	return &spec
}

var errKeywordFound = errors.New("JSON Schema 2020-12 keyword found")

// usesJSONSchema2020Keywords reports whether any schema a request is
// validated against (parameters and request bodies, through references)
// uses a keyword kin-openapi's own validator does not check.
func usesJSONSchema2020Keywords(doc *openapi3.T) bool {
	var roots []*openapi3.SchemaRef
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil {
					roots = append(roots, p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					roots = append(roots, mt.Schema)
				}
			}
		}
	}
	for _, root := range roots {
		if root == nil {
			continue
		}
		err := root.WalkSubtree(func(_ string, ref *openapi3.SchemaRef) error {
			if s := ref.Value; s != nil && jsonSchema2020Only(s) {
				return errKeywordFound
			}
			return nil
		})
		if err != nil {
			return true
		}
	}
	return false
}

// jsonSchema2020Only is a copy of kin-openapi's private
// schemaHasJSONSchema2020FallbackGuardKeyword, pinned to the version in go.mod
// by TestJSONSchema2020Only_IsKinOpenAPIsList.
func jsonSchema2020Only(s *openapi3.Schema) bool {
	return s.Const != nil || len(s.PrefixItems) != 0 || s.Contains != nil ||
		len(s.PatternProperties) != 0 || len(s.DependentSchemas) != 0 || s.PropertyNames != nil ||
		s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil ||
		s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
		s.If != nil || s.Then != nil || s.Else != nil ||
		len(s.DependentRequired) != 0 || len(s.Defs) != 0 || s.ContentSchema != nil
}
