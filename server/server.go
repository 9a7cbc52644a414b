// Package server builds the whole HTTP stack of the API: the Echo instance,
// the request gate driven by openapi.yaml (package gate) with the
// authentication it is given, the routes of the generated strict server,
// metrics and the one error handler that renders every error. Tests call
// the same constructor that main does.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/handlers"
	"github.com/agentos-sessions/agentos-sessions/server/gate"
)

// Config is what the HTTP stack needs to know.
type Config struct {
	// SecurityKey, when non-empty, is the bearer token every /sessions route
	// requires. Empty leaves the API open.
	SecurityKey string
	// MaxBatch is the most session ids one bulk delete may name.
	MaxBatch int
	// MaxBodyBytes is the largest request body accepted.
	MaxBodyBytes int64
	// JWTVerificationKey, when non-empty, lets callers present a JWT: an
	// HS256 secret, or a PEM public key (RSA, ECDSA or Ed25519) whose type
	// pins the algorithm. With SecurityKey also set, either is accepted.
	JWTVerificationKey string
	// JWTAudience, when non-empty, must be in a token's aud claim.
	JWTAudience string
	// UserIsolation confines every non-admin caller to the sessions whose
	// user_id is its token's subject. It needs JWTVerificationKey.
	UserIsolation bool
	// CORSOrigins are the browser origins allowed to call the API; none
	// leaves CORS off.
	CORSOrigins []string
}

// Defaults for Config's limits.
const (
	DefaultMaxBatch     = 100_000
	DefaultMaxBodyBytes = 16 << 20
)

// NewServer returns the API over the given databases, ready to serve.
func NewServer(cfg Config, dbs handlers.Resolver, logger *slog.Logger) (*echo.Echo, error) {
	if cfg.MaxBatch <= 0 || cfg.MaxBodyBytes <= 0 {
		return nil, fmt.Errorf("new server: max batch and max body bytes must be positive")
	}
	doc, err := loadDocument()
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Binder = gate.Binder{}
	e.HTTPErrorHandler = errorHandler(logger)
	// A DELETE body cannot follow a redirect, so a trailing slash is
	// rewritten in place rather than redirected.
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(assignRequestID)
	obs := newObserver(dbs, logger)
	e.Use(obs.middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		logger.ErrorContext(c.Request().Context(), "panic", "request_id", requestID(c), "error", err, "stack", string(stack))
		return err
	}}))
	e.Use(securityHeaders)
	if len(cfg.CORSOrigins) > 0 {
		e.Use(cors(cfg.CORSOrigins))
	}
	e.Use(gate.New(gate.Config{
		Document:     doc,
		Authenticate: auth.authenticate,
		Scopes:       requiredScopes,
		MaxBodyBytes: cfg.MaxBodyBytes,
		MaxBatch:     cfg.MaxBatch,
	}).Middleware)

	e.GET("/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/metrics", obs.metricsHandler())
	if err := registerDocs(e); err != nil {
		return nil, err
	}
	if p, ok := dbs.(Pinger); ok {
		e.GET("/ready", ready(p, logger))
	}
	gen.RegisterHandlers(e, gen.NewStrictHandler(handlers.New(dbs, obs), nil))
	return e, nil
}

// loadDocument parses and checks the committed openapi.yaml.
func loadDocument() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(agentossessions.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("check openapi.yaml: %w", err)
	}
	return doc, nil
}

const requestIDKey = "request_id"

// assignRequestID gives every request an id, taken from a well-formed
// X-Request-ID header or made up, and echoes it in the response.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// validRequestID accepts short ids of letters, digits, '-', '_' and '.', so
// that a client's id can be echoed and logged without harm.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}
