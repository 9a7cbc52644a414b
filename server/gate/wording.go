package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/agentos-sessions/agentos-sessions/apierr"
)

// invalidInput is a 422 whose detail is worded by format.
func invalidInput(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusUnprocessableEntity, apierr.CodeValidation, fmt.Sprintf(format, args...))
}

// validationError words the first problem the document's rules found as
// "<location>.<path>: <reason>", e.g. "body.session_ids: minimum number of
// items is 1" or "query.type: value must be one of …".
func validationError(err error) error {
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return fmt.Errorf("validate request: %w", err)
	}
	var location string
	switch {
	case reqErr.Parameter != nil:
		location = reqErr.Parameter.In + "." + reqErr.Parameter.Name
	case reqErr.RequestBody != nil:
		location = "body"
	default:
		location = "request"
	}
	reason := reqErr.Reason
	var schemaErr *openapi3.SchemaError
	switch {
	case errors.As(reqErr.Err, &schemaErr):
		var path []string
		path, reason = schemaProblem(schemaErr)
		for _, p := range path {
			location += "." + p
		}
	case errors.Is(reqErr.Err, openapi3filter.ErrInvalidEmptyValue) && reqErr.Parameter != nil && rawValue(reqErr) != "":
		// kin-openapi reports a value it could not parse (limit=ten) as empty.
		reason = fmt.Sprintf("value %q is not a valid %s", rawValue(reqErr), typeName(reqErr.Parameter.Schema))
	case reqErr.Err != nil && reason != "" && reason != reqErr.Err.Error():
		reason += ": " + reqErr.Err.Error()
	case reqErr.Err != nil:
		reason = reqErr.Err.Error()
	}
	return apierr.New(http.StatusUnprocessableEntity, apierr.CodeValidation, location+": "+reason)
}

// schemaProblem words a schema error the same way whichever validator made
// it — kin-openapi's own, or the JSON Schema 2020-12 one it uses for parts
// of a 3.1 document, whose reason is wrapped in an opaque header — and gives
// the path of the value it is about.
func schemaProblem(err *openapi3.SchemaError) (path []string, reason string) {
	path = err.JSONPointer()
	switch {
	case err.SchemaField == "enum" && err.Schema != nil && len(err.Schema.Enum) > 0:
		return path, oneOf(err.Schema.Enum)
	case err.SchemaField == "nullable" && err.Schema != nil:
		return path, notNull(err.Schema.Type.Slice())
	case err.SchemaField == "anyOf" && err.Schema != nil:
		// "T or null" failed for a value that is not null: T's own error
		// says what is wrong with it.
		if branch := onlyNonNullBranch(err.Schema); branch != nil {
			var inner *openapi3.SchemaError
			if errors.As(branch.VisitJSON(err.Value), &inner) {
				innerPath, reason := schemaProblem(inner)
				return append(path, innerPath...), reason
			}
		}
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return path, err.Reason
	}
	for len(verr.Causes) > 0 {
		verr = verr.Causes[0]
	}
	path = verr.InstanceLocation
	switch k := verr.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) > 0 {
			return append(path, k.Missing[0]), fmt.Sprintf("property %q is missing", k.Missing[0])
		}
	case *kind.Enum:
		return path, oneOf(k.Want)
	case *kind.Type:
		if k.Got == "null" {
			return path, notNull(k.Want)
		}
	case *kind.Minimum:
		return path, "number must be at least " + k.Want.RatString()
	case *kind.Maximum:
		return path, "number must be at most " + k.Want.RatString()
	case *kind.MinItems:
		return path, fmt.Sprintf("minimum number of items is %d", k.Want)
	case *kind.MaxItems:
		return path, fmt.Sprintf("maximum number of items is %d", k.Want)
	}
	return path, verr.ErrorKind.LocalizedString(message.NewPrinter(language.English))
}

// oneOf words an enum the way JSON writes its values.
func oneOf(values []any) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		b, _ := json.Marshal(v)
		quoted[i] = string(b)
	}
	return "value must be one of " + strings.Join(quoted, ", ")
}

// valueNames name JSON Schema's types in the words a JSON user knows.
var valueNames = map[string]string{
	"array":   "a list",
	"object":  "an object",
	"string":  "a string",
	"integer": "an integer",
	"number":  "a number",
	"boolean": "true or false",
}

// notNull words a null where a schema of these types takes none, naming
// what it takes: "must be a list, not null".
func notNull(types []string) string {
	if len(types) == 1 {
		if name, ok := valueNames[types[0]]; ok {
			return "must be " + name + ", not null"
		}
	}
	return "must not be null"
}

// onlyNonNullBranch is T of a schema "anyOf: [T, null]", or nil.
func onlyNonNullBranch(schema *openapi3.Schema) *openapi3.Schema {
	var found *openapi3.Schema
	for _, ref := range schema.AnyOf {
		if ref.Value == nil || ref.Value.Type.Is("null") {
			continue
		}
		if found != nil {
			return nil
		}
		found = ref.Value
	}
	return found
}

// rawValue is the text a query or header parameter was sent as.
func rawValue(reqErr *openapi3filter.RequestError) string {
	p, req := reqErr.Parameter, reqErr.Input.Request
	switch p.In {
	case openapi3.ParameterInQuery:
		return req.URL.Query().Get(p.Name)
	case openapi3.ParameterInHeader:
		return req.Header.Get(p.Name)
	}
	return ""
}

// typeName names the JSON type a parameter's schema wants, looking through
// "anyOf: [T, null]".
func typeName(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return "value"
	}
	schema := ref.Value
	if branch := onlyNonNullBranch(schema); branch != nil {
		schema = branch
	}
	if types := schema.Type.Slice(); len(types) > 0 {
		return types[0]
	}
	return "value"
}
