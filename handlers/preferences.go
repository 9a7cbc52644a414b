package handlers

import "context"

// Preferences are the RFC 7240 preferences a request's Prefer header
// states, as the request gate read them; handlers honour the ones their
// operation documents.
type Preferences struct {
	// ReturnRepresentation is return=representation: answer with what was
	// done rather than an empty success.
	ReturnRepresentation bool
}

type preferencesKey struct{}

// WithPreferences returns ctx carrying the request's preferences.
func WithPreferences(ctx context.Context, p Preferences) context.Context {
	return context.WithValue(ctx, preferencesKey{}, p)
}

// PreferencesFrom returns the preferences WithPreferences stored in ctx, or
// none.
func PreferencesFrom(ctx context.Context) Preferences {
	p, _ := ctx.Value(preferencesKey{}).(Preferences)
	return p
}
