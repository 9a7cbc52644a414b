// Package apierr owns the API's error vocabulary: the error_code values,
// the error a client caused (Error, rendered as its status), and Body, the
// one {"detail", "error_code"} shape of every error response. The request
// gate, the handlers and the error handler all speak it; it depends on
// nothing of this module.
package apierr

import "net/http"

// Error codes sent in the error_code field of every error body.
const (
	CodeBadRequest           = "BAD_REQUEST"
	CodeUnauthenticated      = "UNAUTHENTICATED"
	CodeForbidden            = "FORBIDDEN"
	CodeNotFound             = "NOT_FOUND"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeConflict             = "CONFLICT"
	CodeValidation           = "VALIDATION_ERROR"
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeInternal             = "INTERNAL_SERVER_ERROR"
	CodeServiceUnavailable   = "SERVICE_UNAVAILABLE"
)

// codeForStatus is the error_code of each status that has one of its own.
var codeForStatus = map[int]string{
	http.StatusBadRequest:            CodeBadRequest,
	http.StatusUnauthorized:          CodeUnauthenticated,
	http.StatusForbidden:             CodeForbidden,
	http.StatusNotFound:              CodeNotFound,
	http.StatusMethodNotAllowed:      CodeMethodNotAllowed,
	http.StatusConflict:              CodeConflict,
	http.StatusRequestEntityTooLarge: CodePayloadTooLarge,
	http.StatusUnsupportedMediaType:  CodeUnsupportedMediaType,
	http.StatusUnprocessableEntity:   CodeValidation,
	http.StatusServiceUnavailable:    CodeServiceUnavailable,
}

// CodeForStatus is the error_code of a client error that carries only its
// status (a router or binder error): the status's own code, or
// CodeBadRequest.
func CodeForStatus(status int) string {
	if code, ok := codeForStatus[status]; ok {
		return code
	}
	return CodeBadRequest
}

// Body is the shape of every error response. It is an alias of the struct
// itself, so that each error response type the generator makes (which has
// this struct as its underlying type) converts from it, and generic code
// can take ~Body.
type Body = struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"error_code"`
}

// Error is an error that the client caused and should read: it is rendered
// as its status with a Body of its code and detail.
type Error struct {
	Status int
	Code   string
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// New returns the client error with that status, error_code and detail.
func New(status int, code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail}
}
