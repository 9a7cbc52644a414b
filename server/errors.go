package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/server/gate"
)

// errorHandler renders every error that reaches Echo — from the router, the
// gate, the binder, a handler or a recovered panic — as one JSON shape.
// Unexpected errors are logged once, with the request id, and the client
// gets the operation's own 500 description and that id, never driver text.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := http.StatusInternalServerError, apierr.Body{ErrorCode: apierr.CodeInternal}
		var apiErr *apierr.Error
		var httpErr *echo.HTTPError
		switch {
		case errors.As(err, &apiErr):
			status, body = apiErr.Status, apierr.Body{Detail: apiErr.Detail, ErrorCode: apiErr.Code}
		case errors.As(err, &httpErr) && httpErr.Code < http.StatusInternalServerError:
			status = httpErr.Code
			body = apierr.Body{Detail: fmt.Sprint(httpErr.Message), ErrorCode: apierr.CodeForStatus(status)}
		default:
			id := requestID(c)
			logger.ErrorContext(c.Request().Context(), "request failed",
				"request_id", id, "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
			body.Detail = fmt.Sprintf("%s (request id: %s)", internalErrorDescription(c), id)
		}
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(status)
		} else {
			err = c.JSON(status, body)
		}
		if err != nil {
			logger.ErrorContext(c.Request().Context(), "write error response", "request_id", requestID(c), "error", err)
		}
	}
}

// internalErrorDescription is the description the document gives the
// operation's 500 response, or a generic sentence outside any operation.
func internalErrorDescription(c echo.Context) string {
	if op, ok := gate.Operation(c); ok && op.Responses != nil {
		if r := op.Responses.Status(http.StatusInternalServerError); r != nil && r.Value != nil && r.Value.Description != nil {
			return *r.Value.Description
		}
	}
	return "Internal server error"
}
