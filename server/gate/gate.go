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
	// routes maps "METHOD /echo/:path" to the document's route, so the
	// operation checked is always the one Echo will run: no second router
	// can disagree with the first.
	routes map[string]*routers.Route
	// scopes maps the same keys to the scopes a JWT needs for the operation.
	scopes map[string][]string
	// bodySchemas maps the same keys to the schema of the operation's
	// application/json body, for the operations whose body the gate checks
	// itself, from the value scanBody decoded (validateBody).
	bodySchemas  map[string]*openapi3.SchemaRef
	authenticate func(req *http.Request, scopes []string) (handlers.Caller, error)
	maxBodyBytes int64
	maxBatch     int
	checkOptions *openapi3filter.Options
	// checkOptionsNoBody leaves the body to validateBody.
	checkOptionsNoBody *openapi3filter.Options
}

// New returns the gate of cfg.Document's operations.
func New(cfg Config) *Gate {
	g := &Gate{
		routes:       make(map[string]*routers.Route),
		scopes:       make(map[string][]string),
		bodySchemas:  make(map[string]*openapi3.SchemaRef),
		authenticate: cfg.Authenticate,
		maxBodyBytes: cfg.MaxBodyBytes,
		maxBatch:     cfg.MaxBatch,
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
	doc := cfg.Document
	spec := validationSpec(doc)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + echoPath(path)
			g.routes[key] = &routers.Route{
				Spec: spec, Path: path, PathItem: item, Method: method, Operation: op,
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			g.scopes[key] = cfg.Scopes(security)
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					g.bodySchemas[key] = mt.Schema
				}
			}
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
		key := req.Method + " " + c.Path()
		route, ok := g.routes[key]
		if !ok {
			return next(c) // not an operation of the document: /health, or a 404/405
		}
		c.Set(operationKey, route.Operation)

		caller, err := g.authenticate(req, g.scopes[key])
		if err != nil {
			return err
		}
		req = req.WithContext(handlers.WithPreferences(handlers.WithCaller(req.Context(), caller), preferences(req.Header)))
		c.SetRequest(req)
		ctx := req.Context()

		var body []byte
		if route.Operation.RequestBody != nil {
			if body, err = g.readBody(req); err != nil {
				return err
			}
		}
		if err := checkURL(req, c.ParamNames(), c.ParamValues()); err != nil {
			return err
		}
		var value any
		decoded := false
		if body != nil {
			if value, decoded, err = scanBody(body, g.maxBatch); err != nil {
				return err
			}
		}
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		joinHeaderLines(req.Header, route.Operation)
		schema := g.bodySchemas[key]
		ownBody := decoded && schema != nil // validateBody checks it, not kin-openapi
		options := g.checkOptions
		if ownBody {
			options = g.checkOptionsNoBody
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
