// Package handlers gives the API its meaning: it implements the strict
// server interface generated from openapi.yaml on top of the store. What the
// document says (required fields, enums, minItems), and the input limits it
// cannot state (the batch limit among them), are enforced by the request
// gate before a handler runs; handlers own what remains: lengths that must
// match, database and table resolution, and ownership.
package handlers

import (
	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// Resolver finds the session table a request addresses by its db_id and
// table query parameters ("" when absent). It returns the store.Err…
// resolution sentinels.
type Resolver interface {
	Resolve(dbID, table string) (store.Sessions, error)
}

// Handlers implements gen.StrictServerInterface.
type Handlers struct {
	dbs Resolver
}

var _ gen.StrictServerInterface = (*Handlers)(nil)

// New returns the handlers over the given databases. Every table they
// resolve reports what its deletes remove to deletes (store.CountDeletes).
func New(dbs Resolver, deletes store.DeleteCounter) *Handlers {
	return &Handlers{dbs: countingResolver{dbs: dbs, deletes: deletes}}
}

// countingResolver resolves tables whose deletes are counted.
type countingResolver struct {
	dbs     Resolver
	deletes store.DeleteCounter
}

func (r countingResolver) Resolve(dbID, table string) (store.Sessions, error) {
	s, err := r.dbs.Resolve(dbID, table)
	if err != nil {
		return nil, err
	}
	return store.CountDeletes(s, r.deletes), nil
}
