package gate

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentos-sessions/agentos-sessions/handlers"
)

// preferences reads the request's Prefer lines (RFC 7240): the one place
// the header is given a meaning.
func preferences(h http.Header) handlers.Preferences {
	var p handlers.Preferences
	for _, line := range h.Values("Prefer") {
		if prefersRepresentation(line) {
			p.ReturnRepresentation = true
		}
	}
	return p
}

// prefersRepresentation reports whether a Prefer line asks for
// return=representation. Preferences are comma-separated, may carry
// parameters after ';', and are compared case-insensitively.
func prefersRepresentation(prefer string) bool {
	for pref := range strings.SplitSeq(prefer, ",") {
		pref, _, _ = strings.Cut(pref, ";")
		name, value, _ := strings.Cut(pref, "=")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if strings.EqualFold(strings.TrimSpace(name), "return") && strings.EqualFold(value, "representation") {
			return true
		}
	}
	return false
}

// joinHeaderLines folds repeated lines of the operation's header parameters
// into one comma-separated value (RFC 9110, 5.3). It is one of the two
// rewrites of a request the gate makes, because generated code needs it:
// the generated parameter binder refuses a header parameter sent on two
// lines (400 "Expected one value for Prefer, got 2"), although two Prefer
// lines mean what one line listing both preferences means.
func joinHeaderLines(h http.Header, op *openapi3.Operation) {
	for _, p := range op.Parameters {
		if p.Value == nil || p.Value.In != openapi3.ParameterInHeader {
			continue
		}
		name := http.CanonicalHeaderKey(p.Value.Name)
		if lines := h[name]; len(lines) > 1 {
			h[name] = []string{strings.Join(lines, ", ")}
		}
	}
}
