package gate

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// joinHeaderLines folds repeated lines of the operation's header parameters
// into one comma-separated value (RFC 9110, 5.3), so that two Prefer lines
// mean what one line listing both preferences means.
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
