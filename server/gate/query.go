package gate

import (
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
)

// singleValued lists the query parameters of an operation that take one
// value: every one whose schema is not an array.
func singleValued(params ...openapi3.Parameters) []string {
	var names []string
	for _, ps := range params {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && typeName(p.Value.Schema) != openapi3.TypeArray {
				names = append(names, p.Value.Name)
			}
		}
	}
	return names
}

// checkOnce refuses a query that gives a parameter of one value several
// times (?limit=5&limit=6): which of them was meant cannot be known, and
// the generated binder would refuse it with a 400 of its own words.
func checkOnce(query url.Values, names []string) error {
	for _, name := range names {
		if n := len(query[name]); n > 1 {
			return invalidInput("query.%s: give the parameter once, not %d times", name, n)
		}
	}
	return nil
}
