package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// Pinger is what GET /ready asks: nil when every database answers, or one
// *store.PingError per database that does not. *store.Catalog is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// readyTimeout bounds one readiness check, so a load balancer's probe gets
// an answer while a database hangs rather than refuses.
const readyTimeout = 2 * time.Second

// ready answers GET /ready: 200 when every configured database answers a
// ping, 503 naming the ones that do not. It needs no authentication, as a
// load balancer's probe carries none, and says nothing but database ids.
func ready(dbs Pinger, logger *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
		defer cancel()
		err := dbs.Ping(ctx)
		if err == nil {
			return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
		}
		logger.WarnContext(ctx, "not ready", "request_id", requestID(c), "error", err)
		var ids []string
		for _, e := range unjoin(err) {
			if pe, ok := errors.AsType[*store.PingError](e); ok {
				ids = append(ids, "'"+pe.DatabaseID+"'")
			}
		}
		detail := "A database is unreachable"
		switch len(ids) {
		case 0:
		case 1:
			detail = fmt.Sprintf("Database %s is unreachable", ids[0])
		default:
			detail = fmt.Sprintf("Databases %s are unreachable", strings.Join(ids, ", "))
		}
		return apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, detail)
	}
}

// unjoin lists the errors errors.Join combined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
