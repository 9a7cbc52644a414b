// Package agentossessions embeds openapi.yaml, the single source of truth of
// the API, so that the server validates requests against, and serves, the
// committed document byte for byte.
package agentossessions

import _ "embed"

// OpenAPI is the committed openapi.yaml, exactly as written.
//
//go:embed openapi.yaml
var OpenAPI []byte
