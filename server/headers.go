package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// securityHeaders marks every response as not to be sniffed or stored: API
// responses carry sessions, which no cache should keep. The assets of the
// reference pages, the only cacheable responses, set their own
// Cache-Control (assets.serve).
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		h.Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// cors lets browsers on the given origins call the API, bearer token and
// Prefer header included; other origins get no CORS headers at all.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  origins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "Prefer", echo.HeaderXRequestID},
		ExposeHeaders: []string{"Preference-Applied", echo.HeaderXRequestID, "X-Total-Count"},
		MaxAge:        600,
	})
}
