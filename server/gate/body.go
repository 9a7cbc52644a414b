package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// validateBody checks a body scanBody decoded against its schema in the
// document, as kin-openapi's ValidateRequestBody would after decoding it
// itself (same options, same errors), and leaves the validated value on the
// body for the handler to bind, as Options.KeepValidatedValue does.
func validateBody(input *openapi3filter.RequestValidationInput, schema *openapi3.SchemaRef, value any) error {
	req := input.Request
	defaultsSet := false
	opts := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.DefaultsSet(func() { defaultsSet = true })}
	if input.Route.Spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	if err := schema.Value.VisitJSON(value, opts...); err != nil {
		reason := "doesn't match schema"
		id := strings.TrimSpace(schema.Ref)
		if id == "" {
			id = strings.TrimSpace(schema.Value.Title)
		}
		if id != "" {
			reason += " " + id
		}
		return &openapi3filter.RequestError{Input: input, RequestBody: input.Route.Operation.RequestBody.Value, Reason: reason, Err: err}
	}
	if defaultsSet {
		// The defaults are part of the body from now on.
		data, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("encode body with defaults: %w", err)
		}
		req.ContentLength = int64(len(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		req.Body, _ = req.GetBody()
	}
	req.Body = validatedBody{ReadCloser: req.Body, value: value}
	return nil
}

// validatedBody is a request body with the value validated from it, which
// the generated strict handler binds (ValidatedValue, the method kin-openapi's
// own validated bodies have).
type validatedBody struct {
	io.ReadCloser
	value any
}

// ValidatedValue returns the value validated from the body.
func (b validatedBody) ValidatedValue() any { return b.value }
