package handlers

import "context"

// Caller is who sent a request, as the server's authentication step found
// it. Handlers read it to confine an isolated caller to its own sessions.
type Caller struct {
	// Subject is the token's "sub" claim, "" for the security key or an open
	// server.
	Subject string
	// Isolated confines the caller to sessions whose user_id is Subject.
	Isolated bool
}

type callerKey struct{}

// WithCaller returns ctx carrying the request's caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller WithCaller stored in ctx, or the zero
// Caller.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// userFilter is the user_id the rows of a request must have: the query's
// user_id, narrowed to the caller's own under isolation. ok is false when an
// isolated caller asks for another user's rows, which match nothing.
func userFilter(ctx context.Context, query *string) (userID *string, ok bool) {
	c := CallerFrom(ctx)
	if !c.Isolated {
		return query, true
	}
	if query != nil && *query != c.Subject {
		return nil, false
	}
	sub := c.Subject
	return &sub, true
}
