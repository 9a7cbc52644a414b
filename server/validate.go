package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/handlers"
)

// operationKey is where the validator leaves the request's operation in the
// Echo context, for the error handler's 500 description.
const operationKey = "openapi.operation"

// validator checks every request that Echo routed to an operation of the
// document, in the order the API promises: authentication (401), scopes
// (403), media type (415), body size (413), then hostile input and the
// document's own rules (422).
type validator struct {
	// routes maps "METHOD /echo/:path" to the document's route, so the
	// operation checked is always the one Echo will run: no second router
	// can disagree with the first.
	routes map[string]*routers.Route
	// scopes maps the same keys to the scopes a JWT needs for the operation.
	scopes map[string][]string
	// bodySchemas maps the same keys to the schema of the operation's
	// application/json body, for the operations whose body the validator
	// checks itself, from the value scanBody decoded (validateBody).
	bodySchemas  map[string]*openapi3.SchemaRef
	auth         *authenticator
	maxBodyBytes int64
	maxBatch     int
	checkOptions *openapi3filter.Options
	// checkOptionsNoBody leaves the body to validateBody.
	checkOptionsNoBody *openapi3filter.Options
}

func newValidator(doc *openapi3.T, auth *authenticator, maxBodyBytes int64, maxBatch int) *validator {
	v := &validator{
		routes:       make(map[string]*routers.Route),
		scopes:       make(map[string][]string),
		bodySchemas:  make(map[string]*openapi3.SchemaRef),
		auth:         auth,
		maxBodyBytes: maxBodyBytes,
		maxBatch:     maxBatch,
		checkOptions: &openapi3filter.Options{
			// Authentication has already run by the time the rest is checked.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// The handler binds the value that was validated, so it never
			// decodes the body a second time (or differently).
			KeepValidatedValue: true,
		},
		checkOptionsNoBody: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			ExcludeRequestBody: true,
		},
	}
	spec := validationSpec(doc)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + echoPath(path)
			v.routes[key] = &routers.Route{
				Spec: spec, Path: path, PathItem: item, Method: method, Operation: op,
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			v.scopes[key] = requiredScopes(security)
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					v.bodySchemas[key] = mt.Schema
				}
			}
		}
	}
	return v
}

// echoPath writes an OpenAPI path template the way Echo writes routes:
// /sessions/{session_id} becomes /sessions/:session_id.
func echoPath(path string) string {
	var b strings.Builder
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = ":" + seg[1:len(seg)-1]
		}
		b.WriteString(seg)
	}
	return b.String()
}

func (v *validator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.Method + " " + c.Path()
		route, ok := v.routes[key]
		if !ok {
			return next(c) // not an operation of the document: /health, or a 404/405
		}
		c.Set(operationKey, route.Operation)

		caller, err := v.auth.authenticate(req, v.scopes[key])
		if err != nil {
			return err
		}
		req = req.WithContext(handlers.WithCaller(req.Context(), caller))
		c.SetRequest(req)
		ctx := req.Context()

		var body []byte
		if route.Operation.RequestBody != nil {
			if body, err = v.readBody(req); err != nil {
				return err
			}
		}
		if err := checkURL(req, c.ParamNames(), c.ParamValues()); err != nil {
			return err
		}
		var value any
		decoded := false
		if body != nil {
			if value, decoded, err = scanBody(body, v.maxBatch); err != nil {
				return err
			}
		}
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		joinHeaderLines(req.Header, route.Operation)
		schema := v.bodySchemas[key]
		ownBody := decoded && schema != nil // validateBody checks it, not kin-openapi
		options := v.checkOptions
		if ownBody {
			options = v.checkOptionsNoBody
		}
		input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: options}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			return validationError(err)
		}
		if ownBody {
			if err := validateBody(input, schema, value); err != nil {
				return validationError(err)
			}
		}
		return next(c)
	}
}

// readBody checks the request's media type and size, then buffers at most
// maxBodyBytes of it so that an oversized body is refused while it is read,
// before anything decodes it, and returns what it read. A request without
// Content-Type is read as JSON.
func (v *validator) readBody(req *http.Request) ([]byte, error) {
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mediaType, params, err := mime.ParseMediaType(ct)
		if err != nil || !isJSON(mediaType) || !isUTF8(params["charset"]) {
			return nil, apierr.New(http.StatusUnsupportedMediaType, apierr.CodeUnsupportedMediaType,
				fmt.Sprintf("Content-Type must be application/json, not %q", ct))
		}
	}
	// The validator and the binder know the document's media type only.
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)

	tooLarge := apierr.New(http.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge,
		fmt.Sprintf("Request body is larger than %d bytes", v.maxBodyBytes))
	if req.ContentLength > v.maxBodyBytes {
		return nil, tooLarge
	}
	data, err := readAll(io.LimitReader(req.Body, v.maxBodyBytes+1), req.ContentLength)
	if err != nil {
		return nil, apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request body could not be read")
	}
	if int64(len(data)) > v.maxBodyBytes {
		return nil, tooLarge
	}
	_ = req.Body.Close()
	req.ContentLength = int64(len(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.Body, _ = req.GetBody()
	return data, nil
}

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

// readAll reads r to its end. When the length is announced it reads into
// one buffer of that size, where io.ReadAll grows and copies its way there
// (about 0.5 MB of garbage for the 280 kB body of 10,000 ids).
func readAll(r io.Reader, announced int64) ([]byte, error) {
	if announced <= 0 {
		return io.ReadAll(r)
	}
	data := make([]byte, announced+1) // one more, to see a longer body
	n, err := io.ReadFull(r, data)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return data[:n], nil
	case err != nil:
		return nil, err
	}
	rest, err := io.ReadAll(r)
	return append(data, rest...), err
}

// isJSON accepts application/json and any application/*+json type.
func isJSON(mediaType string) bool {
	sub, ok := strings.CutPrefix(mediaType, "application/")
	return ok && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// isUTF8 accepts no charset or UTF-8, the only encoding JSON allows (RFC 8259).
func isUTF8(charset string) bool {
	return charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
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
