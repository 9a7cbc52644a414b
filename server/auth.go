package server

import (
	"crypto/elliptic"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/handlers"
)

// Scopes a JWT's "scopes" claim may carry. The scope each operation needs
// is declared in openapi.yaml, on its JWTBearer security requirement.
const (
	ScopeAdmin = "agent_os:admin"
	// jwtScheme is the security scheme whose requirements list scopes.
	jwtScheme = "JWTBearer"
)

// JWTLeeway is how far exp and nbf may be off, for clocks that disagree.
const JWTLeeway = 30 * time.Second

// authenticator decides who a request's caller is: anyone when neither a
// security key nor a JWT key is configured, otherwise the holder of the key
// (an admin) or of a valid JWT (with the token's scopes and subject).
type authenticator struct {
	key       []byte
	parser    *jwt.Parser
	jwtKey    any
	isolation bool
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	a := &authenticator{key: []byte(cfg.SecurityKey), isolation: cfg.UserIsolation}
	if cfg.JWTVerificationKey == "" {
		if cfg.UserIsolation {
			return nil, errors.New("user isolation needs a JWT verification key: the caller's user is the token's subject")
		}
		return a, nil
	}
	key, alg, err := parseJWTKey(cfg.JWTVerificationKey)
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{alg}), jwt.WithLeeway(JWTLeeway)}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	a.jwtKey, a.parser = key, jwt.NewParser(opts...)
	return a, nil
}

// parseJWTKey reads a PEM public key (RSA, ECDSA or Ed25519) or, failing
// that, takes the text as an HS256 secret. The key's type pins the one
// algorithm a token may use, which refuses "alg: none" and algorithm
// confusion (an RS256 public key used as an HS256 secret).
func parseJWTKey(text string) (key any, alg string, err error) {
	if !strings.Contains(text, "-----BEGIN") {
		return []byte(text), jwt.SigningMethodHS256.Alg(), nil
	}
	if k, err := jwt.ParseRSAPublicKeyFromPEM([]byte(text)); err == nil {
		return k, jwt.SigningMethodRS256.Alg(), nil
	}
	if k, err := jwt.ParseECPublicKeyFromPEM([]byte(text)); err == nil {
		switch k.Curve {
		case elliptic.P256():
			return k, jwt.SigningMethodES256.Alg(), nil
		case elliptic.P384():
			return k, jwt.SigningMethodES384.Alg(), nil
		case elliptic.P521():
			return k, jwt.SigningMethodES512.Alg(), nil
		}
		return nil, "", errors.New("jwt verification key: unsupported elliptic curve")
	}
	if k, err := jwt.ParseEdPublicKeyFromPEM([]byte(text)); err == nil {
		return k, jwt.SigningMethodEdDSA.Alg(), nil
	}
	return nil, "", errors.New("jwt verification key: PEM block is not an RSA, ECDSA or Ed25519 public key")
}

// claims are the parts of a token the server reads.
type claims struct {
	Scopes []string `json:"scopes"`
	jwt.RegisteredClaims
}

// authenticate returns the caller of req, or a 401 or 403 Error. required
// are the scopes the operation needs from a JWT.
func (a *authenticator) authenticate(req *http.Request, required []string) (handlers.Caller, error) {
	if len(a.key) == 0 && a.parser == nil {
		return handlers.Caller{}, nil // an open server: anyone, confined to no user
	}
	header := req.Header.Get(echo.HeaderAuthorization)
	if header == "" {
		return handlers.Caller{}, unauthenticated("Authorization header required")
	}
	scheme, token, found := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "bearer") || token == "" {
		// A header was sent, in a form this server does not read: say
		// which it reads rather than that none came.
		return handlers.Caller{}, unauthenticated("Authorization header must be 'Bearer <token>'")
	}
	if len(a.key) > 0 && subtle.ConstantTimeCompare([]byte(token), a.key) == 1 {
		return handlers.Caller{}, nil // the key's holder is an admin
	}
	if a.parser == nil {
		return handlers.Caller{}, unauthenticated("Invalid authentication token")
	}
	var c claims
	_, err := a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.jwtKey, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return handlers.Caller{}, unauthenticated("Token has expired")
	case errors.Is(err, jwt.ErrTokenInvalidAudience), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// aud is the only claim the parser is told to require.
		return handlers.Caller{}, unauthenticated("Invalid token audience")
	case err != nil:
		return handlers.Caller{}, unauthenticated("Invalid token")
	}
	admin := slices.Contains(c.Scopes, ScopeAdmin)
	if a.isolation && !admin && c.Subject == "" {
		// Fail closed: without a subject there is no user to confine to.
		return handlers.Caller{}, unauthenticated("Token has no subject")
	}
	if !admin {
		for _, s := range required {
			if !slices.Contains(c.Scopes, s) {
				return handlers.Caller{}, apierr.New(http.StatusForbidden, apierr.CodeForbidden,
					"Insufficient permissions. Required scope(s): "+strings.Join(required, ", "))
			}
		}
	}
	return handlers.Caller{Subject: c.Subject, Isolated: a.isolation && !admin}, nil
}

func unauthenticated(detail string) *apierr.Error {
	return apierr.New(http.StatusUnauthorized, apierr.CodeUnauthenticated, detail)
}

// requiredScopes lists the scopes an operation's JWTBearer requirement
// names. An operation that declares none is for admins only, so that one
// added without thinking of scopes fails closed.
func requiredScopes(requirements openapi3.SecurityRequirements) []string {
	for _, r := range requirements {
		if scopes, ok := r[jwtScheme]; ok && len(scopes) > 0 {
			return scopes
		}
	}
	return []string{ScopeAdmin}
}
