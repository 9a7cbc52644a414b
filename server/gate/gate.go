// Package gate is the request gate: the Echo middleware every request to an
// operation of openapi.yaml passes before its handler runs. It checks, in
// the order the API promises, authentication and scopes (401, 403, through
// the function it is given), the media type (415), the body's size (413),
// the input limits the document cannot state (422) and the document's own
// rules (422); it reads and decodes the body once, and hands the handler
// the value it validated. Every refusal is an *apierr.Error.
package gate

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/agentos-sessions/agentos-sessions/handlers"
)

// Config is what the gate needs to know.
type Config struct {
	// Document is openapi.yaml, loaded and checked.
	Document *openapi3.T
	// Authenticate returns who sent req, or the 401 or 403 *apierr.Error
	// that refuses it. scopes are those the operation needs from a JWT.
	Authenticate func(req *http.Request, scopes []string) (handlers.Caller, error)
	// Scopes lists the scopes an operation with these security
	// requirements needs.
	Scopes func(openapi3.SecurityRequirements) []string
	// MaxBodyBytes is the largest request body accepted.
	MaxBodyBytes int64
	// MaxBatch is the most session ids one bulk delete may name.
	MaxBatch int
}

// operationKey is where the gate leaves the request's operation in the
// Echo context (Operation).
const operationKey = "openapi.operation"

// Operation returns the operation of the document that c's request was
// routed to, once the gate has seen it.
func Operation(c echo.Context) (*openapi3.Operation, bool) {
	op, ok := c.Get(operationKey).(*openapi3.Operation)
	return op, ok
}

// Gate checks every request that Echo routed to an operation of the
// document (Middleware).
type Gate struct {
	// operations maps "METHOD /echo/:path" to the document's operation, so
	// the operation checked is always the one Echo will run: no second
	// router can disagree with the first.
	operations   map[string]*operation
	authenticate func(req *http.Request, scopes []string) (handlers.Caller, error)
	maxBodyBytes int64
	maxBatch     int
}

// operation is what the gate knows of one operation of the document.
type operation struct {
	doc *openapi3.Operation
	// route is what kin-openapi checks the parameters against: the
	// operation without its security requirements, which the gate has
	// already met (kin-openapi would read the whole body again to hand it
	// to an authentication function), in the validation spec (spec.go).
	route *routers.Route
	// scopes are those a JWT needs for the operation.
	scopes []string
	// single are its query parameters that take one value.
	single []string
	// bodySchema is the schema of its application/json body, which
	// validateBody checks the body against.
	bodySchema *openapi3.SchemaRef
}

// checkOptions has kin-openapi check the parameters, and only check them:
// the body is left to validateBody, which reads the value the gate decoded,
// and an absent parameter stays absent rather than be written into the
// request's query with its default (the handlers apply the defaults).
var checkOptions = &openapi3filter.Options{
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	ExcludeRequestBody:  true,
	SkipSettingDefaults: true,
}

// New returns the gate of cfg.Document's operations.
func New(cfg Config) *Gate {
	g := &Gate{
		operations:   make(map[string]*operation),
		authenticate: cfg.Authenticate,
		maxBodyBytes: cfg.MaxBodyBytes,
		maxBatch:     cfg.MaxBatch,
	}
	doc := cfg.Document
	spec := validationSpec(doc)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			checked := *op
			checked.Security = &openapi3.SecurityRequirements{}
			o := &operation{
				doc:    op,
				route:  &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: &checked},
				scopes: cfg.Scopes(security),
				single: singleValued(item.Parameters, op.Parameters),
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					o.bodySchema = mt.Schema
				}
			}
			g.operations[method+" "+echoPath(path)] = o
		}
	}
	return g
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

// Middleware is the gate in front of every route: requests to an operation
// of the document pass its checks, others go through untouched.
func (g *Gate) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op, ok := g.operations[req.Method+" "+c.Path()]
		if !ok {
			return next(c) // not an operation of the document: /health, or a 404/405
		}
		c.Set(operationKey, op.doc)

		caller, err := g.authenticate(req, op.scopes)
		if err != nil {
			return err
		}
		req = req.WithContext(handlers.WithPreferences(handlers.WithCaller(req.Context(), caller), preferences(req.Header)))
		c.SetRequest(req)
		ctx := req.Context()

		hasBody := op.doc.RequestBody != nil
		var data []byte
		if hasBody {
			if data, err = g.readBody(req); err != nil {
				return err
			}
		}
		if err := checkURL(req, c.ParamNames(), c.ParamValues()); err != nil {
			return err
		}
		if err := checkOnce(req.URL.Query(), op.single); err != nil {
			return err
		}
		var value any
		complete := false
		if hasBody {
			if value, complete, err = scanBody(data, g.maxBatch); err != nil {
				return err
			}
		}
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		joinHeaderLines(req.Header, op.doc)
		input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: op.route, Options: checkOptions}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			return validationError(err)
		}
		if hasBody {
			if value, err = validateBody(input, op.bodySchema, data, value, complete); err != nil {
				return validationError(err)
			}
			handOver(req, data, value)
		}
		return next(c)
	}
}
