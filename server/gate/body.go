package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/runtime"
)

// validateBody checks a request body against its schema in the document as
// kin-openapi's ValidateRequestBody would (same options, same errors), from
// what the gate read (data) and decoded (value, when complete), and returns
// the value the handler is to bind: nil for an absent optional body.
func validateBody(input *openapi3filter.RequestValidationInput, schema *openapi3.SchemaRef, data []byte, value any, complete bool) (any, error) {
	body := input.Route.Operation.RequestBody.Value
	if !complete {
		if len(data) == 0 {
			if body.Required {
				return nil, &openapi3filter.RequestError{Input: input, RequestBody: body, Err: openapi3filter.ErrInvalidRequired}
			}
			return nil, nil
		}
		// Not one whole JSON value: kin-openapi's own JSON decoder says what
		// is wrong with it, in its words.
		v, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(data), input.Request.Header, schema, nil)
		if err != nil {
			return nil, &openapi3filter.RequestError{Input: input, RequestBody: body, Reason: "failed to decode request body", Err: err}
		}
		value = v // never reached: a value this decoder reads whole, scanBody does too (FuzzScanBody)
	}
	if schema == nil {
		return value, nil // the document does not describe this body
	}
	// DefaultsSet has the schema's defaults written into value, which is
	// what the handler binds.
	opts := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.DefaultsSet(func() {})}
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
		return nil, &openapi3filter.RequestError{Input: input, RequestBody: body, Reason: reason, Err: err}
	}
	return value, nil
}

// handOver gives the handler the body the gate validated. It is one of the
// two rewrites of a request the gate makes, because generated code needs
// it: the generated strict handler binds a request body from the body
// itself, through its ValidatedValue method when it has one (the method
// kin-openapi's own validated bodies have), so the value travels as the
// body. The text is kept for Binder.
func handOver(req *http.Request, data []byte, value any) {
	req.Body = validatedBody{ReadCloser: io.NopCloser(bytes.NewReader(data)), value: value}
}

// validatedBody is a request body the gate read: its text, and the value
// validated from it.
type validatedBody struct {
	io.ReadCloser
	value any
}

// ValidatedValue returns the value validated from the body.
func (b validatedBody) ValidatedValue() any { return b.value }

// Binder is the server's Echo binder, which the generated strict handlers
// call for every request body. It binds the value the gate validated and
// handed over, so that nothing after the gate reads the media type again:
// the gate has already accepted it, +json types and charsets included.
type Binder struct{}

// Bind binds the request's validated body to i.
func (Binder) Bind(i any, c echo.Context) error {
	body, ok := c.Request().Body.(validatedBody)
	if !ok {
		return errors.New("bind: the request body did not come through the gate")
	}
	if runtime.BindJSONValue(body.value, i) == nil {
		return nil
	}
	// A validated value fails to bind only for a number a float64 cannot
	// hold (1e400); decoding the text again says so as Echo's own binder
	// always has.
	if err := c.Echo().JSONSerializer.Deserialize(c, i); err != nil {
		var httpErr *echo.HTTPError
		if errors.As(err, &httpErr) {
			return err
		}
		return echo.NewHTTPError(http.StatusBadRequest, err.Error()).SetInternal(err)
	}
	return fmt.Errorf("bind: the validated body binds from its text but not from its value")
}
