package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

const jwtSecret = "test-hs256-secret-of-some-length"

// sign makes a token with the given claims; exp defaults to an hour ahead.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

// bearer is an Authorization header value for an HS256 token with scopes.
func bearer(t testing.TB, sub string, scopes ...string) string {
	claims := jwt.MapClaims{"scopes": scopes}
	if sub != "" {
		claims["sub"] = sub
	}
	return "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(jwtSecret), claims)
}

func jwtConfig() server.Config {
	cfg := server.Config{}
	cfg.JWTVerificationKey = jwtSecret
	return cfg
}

func pemPublic(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestAuth_JWT(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), jwtConfig())
	now := time.Now()
	hs := func(claims jwt.MapClaims) string {
		return "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(jwtSecret), claims)
	}
	read := []string{"sessions:read"}
	none := "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"scopes": read})
	other := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another secret"), jwt.MapClaims{"scopes": read})
	hs512 := "Bearer " + sign(t, jwt.SigningMethodHS512, []byte(jwtSecret), jwt.MapClaims{"scopes": read})
	tests := []struct {
		name, auth, detail string
	}{
		{"NoHeader", "", "Authorization header required"},
		{"EmptyToken", "Bearer ", "Authorization header must be 'Bearer <token>'"},
		{"Malformed", "Bearer not.a.jwt", "Invalid token"},
		{"WrongSignature", other, "Invalid token"},
		{"AlgNone", none, "Invalid token"},
		{"OtherAlgorithm", hs512, "Invalid token"},
		{"Expired", hs(jwt.MapClaims{"scopes": read, "exp": now.Add(-time.Hour).Unix()}), "Token has expired"},
		{"NotYetValid", hs(jwt.MapClaims{"scopes": read, "nbf": now.Add(time.Hour).Unix()}), "Invalid token"},
		{"ScopesNotAList", hs(jwt.MapClaims{"scopes": 7}), "Invalid token"},
		// The signature is checked before the claims say anything.
		{"ExpiredWithBadSignature", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another secret"),
			jwt.MapClaims{"scopes": read, "exp": now.Add(-time.Hour).Unix()}), "Invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a.Do(t, http.MethodGet, "/sessions", "", "Authorization", tt.auth).WantError(t, 401, "UNAUTHENTICATED", tt.detail)
		})
	}
	t.Run("LeewayOnExpAndNbf", func(t *testing.T) {
		t.Parallel()
		// Taken now, not when the test began: parallel subtests may start
		// long after it, and the leeway is only 30 s.
		now := time.Now()
		for _, claims := range []jwt.MapClaims{
			{"scopes": read, "exp": now.Add(-5 * time.Second).Unix()},
			{"scopes": read, "nbf": now.Add(5 * time.Second).Unix()},
		} {
			if res := a.Do(t, http.MethodGet, "/sessions", "", "Authorization", hs(claims)); res.Status != http.StatusOK {
				t.Errorf("claims %v: status = %d, want 200 within %s leeway (%s)", claims, res.Status, server.JWTLeeway, res.Body)
			}
		}
	})
	t.Run("SecurityKeyIsNotConfigured", func(t *testing.T) {
		t.Parallel()
		a.Do(t, http.MethodGet, "/sessions", "", "Authorization", "Bearer "+jwtSecret).WantError(t, 401, "UNAUTHENTICATED", "Invalid token")
	})
}

func TestAuth_JWTAudience(t *testing.T) {
	t.Parallel()
	cfg := jwtConfig()
	cfg.JWTAudience = "agentos"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	for _, tt := range []struct {
		name   string
		aud    any
		status int
	}{
		{"Missing", nil, 401}, {"Other", "billing", 401}, {"Equal", "agentos", 200}, {"InList", []string{"x", "agentos"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := jwt.MapClaims{"scopes": []string{"sessions:read"}}
			if tt.aud != nil {
				claims["aud"] = tt.aud
			}
			res := a.Do(t, http.MethodGet, "/sessions", "", "Authorization", "Bearer "+sign(t, jwt.SigningMethodHS256, []byte(jwtSecret), claims))
			if tt.status == 401 {
				res.WantError(t, 401, "UNAUTHENTICATED", "Invalid token audience")
			} else if res.Status != tt.status {
				t.Errorf("status = %d, want %d (%s)", res.Status, tt.status, res.Body)
			}
		})
	}
}

func TestAuth_PublicKeys(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := func() jwt.MapClaims { return jwt.MapClaims{"scopes": []string{"sessions:read"}} }
	tests := []struct {
		name    string
		pem     string
		good    string
		refused map[string]string
	}{
		{
			name: "RS256", pem: pemPublic(t, &rsaKey.PublicKey),
			good: sign(t, jwt.SigningMethodRS256, rsaKey, claims()),
			refused: map[string]string{
				// Algorithm confusion: the public key used as an HMAC secret.
				"HS256WithPublicKey": sign(t, jwt.SigningMethodHS256, []byte(pemPublic(t, &rsaKey.PublicKey)), claims()),
				"PS256":              sign(t, jwt.SigningMethodPS256, rsaKey, claims()),
			},
		},
		{
			name: "ES256", pem: pemPublic(t, &ecKey.PublicKey),
			good: sign(t, jwt.SigningMethodES256, ecKey, claims()),
			refused: map[string]string{
				"HS256WithPublicKey": sign(t, jwt.SigningMethodHS256, []byte(pemPublic(t, &ecKey.PublicKey)), claims()),
				"RS256":              sign(t, jwt.SigningMethodRS256, rsaKey, claims()),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := server.Config{}
			cfg.JWTVerificationKey = tt.pem
			a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
			if res := a.Do(t, http.MethodGet, "/sessions", "", "Authorization", "Bearer "+tt.good); res.Status != http.StatusOK {
				t.Errorf("good token: status = %d, want 200 (%s)", res.Status, res.Body)
			}
			for name, token := range tt.refused {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					a.Do(t, http.MethodGet, "/sessions", "", "Authorization", "Bearer "+token).WantError(t, 401, "UNAUTHENTICATED", "Invalid token")
				})
			}
		})
	}
	t.Run("NotAKey", func(t *testing.T) {
		t.Parallel()
		cfg := server.Config{MaxBatch: server.DefaultMaxBatch, MaxBodyBytes: server.DefaultMaxBodyBytes}
		cfg.JWTVerificationKey = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
		if _, err := server.NewServer(cfg, nil, nil); err == nil {
			t.Error("NewServer accepted a PEM block that is no public key")
		}
	})
}

// operations are one request per operation of the document, each with the
// scope it needs.
var operations = []struct {
	method, path, body, scope string
}{
	{http.MethodGet, "/sessions", "", "sessions:read"},
	{http.MethodPost, "/sessions", `{"session_id":"new"}`, "sessions:write"},
	{http.MethodGet, "/sessions/s1", "", "sessions:read"},
	{http.MethodPatch, "/sessions/s1", `{"summary":null}`, "sessions:write"},
	{http.MethodPost, "/sessions/s1/rename", `{"session_name":"n"}`, "sessions:write"},
	{http.MethodGet, "/sessions/s1/runs", "", "sessions:read"},
	{http.MethodPost, "/sessions/s1/runs", `{"run_id":"r2","agent_id":"helper"}`, "sessions:write"},
	{http.MethodGet, "/sessions/s1/runs/s1-run-0", "", "sessions:read"},
	{http.MethodDelete, "/sessions/s1", "", "sessions:delete"},
	{http.MethodDelete, "/sessions", `{"session_ids":["new"],"session_types":["agent"]}`, "sessions:delete"},
}

func TestAuth_Scopes(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), jwtConfig())
	all := []string{"sessions:read", "sessions:write", "sessions:delete"}
	for _, op := range operations {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			t.Parallel()
			var others []string
			for _, s := range all {
				if s != op.scope {
					others = append(others, s)
				}
			}
			want := "Insufficient permissions. Required scope(s): " + op.scope
			a.Do(t, op.method, op.path, op.body, "Content-Type", jsonCT, "Authorization", bearer(t, "u1", others...)).
				WantError(t, 403, "FORBIDDEN", want)
			if op.body != "" {
				// Scopes are checked before the media type and the body.
				a.Do(t, op.method, op.path, `{"session_ids":[`, "Content-Type", "text/plain", "Authorization", bearer(t, "u1")).
					WantError(t, 403, "FORBIDDEN", want)
			}
			// Authentication comes before scopes.
			a.Do(t, op.method, op.path, op.body, "Content-Type", jsonCT).WantError(t, 401, "UNAUTHENTICATED", "Authorization header required")
		})
	}
	// Each scope lets its operations through, and admin lets all through.
	for _, scopes := range [][]string{nil, {"agent_os:admin"}} {
		a.Seed(t, testkit.Session{ID: "s1", Type: "agent", Runs: 1})
		for _, op := range operations {
			granted := scopes
			if granted == nil {
				granted = []string{op.scope}
			}
			res := a.Do(t, op.method, op.path, op.body, "Content-Type", jsonCT, "Authorization", bearer(t, "u1", granted...))
			if res.Status >= 300 {
				t.Errorf("%s %s with %v: status = %d, want success (%s)", op.method, op.path, granted, res.Status, res.Body)
			}
		}
	}
}

// TestAuth_Header checks the two ways an Authorization header can fail
// before its token is read: absent, or not in the Bearer scheme.
func TestAuth_Header(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.SecurityKey = "sekret"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	const notBearer = "Authorization header must be 'Bearer <token>'"
	for _, tt := range []struct{ name, auth, detail string }{
		{"Absent", "", "Authorization header required"},
		{"NoScheme", "sekret", notBearer},
		{"Basic", "Basic c2VrcmV0Og==", notBearer},
		{"SchemeAlone", "Bearer", notBearer},
		{"NoToken", "Bearer   ", notBearer},
		{"SchemeGlued", "Bearer:sekret", notBearer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a.Do(t, http.MethodGet, "/sessions", "", "Authorization", tt.auth).WantError(t, 401, "UNAUTHENTICATED", tt.detail)
		})
	}
	t.Run("SchemeInAnyCase", func(t *testing.T) {
		t.Parallel()
		for _, auth := range []string{"Bearer sekret", "bearer sekret", "BEARER sekret"} {
			if res := a.Do(t, http.MethodGet, "/sessions", "", "Authorization", auth); res.Status != http.StatusOK {
				t.Errorf("%q: status = %d, want 200 (%s)", auth, res.Status, res.Body)
			}
		}
	})
}

func TestAuth_KeyAndJWT(t *testing.T) {
	t.Parallel()
	cfg := jwtConfig()
	cfg.SecurityKey = "s3cret-key"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	a.Seed(t, testkit.Session{ID: "s1", Type: "agent"})
	body := testkit.DeleteBody([]string{"s1"}, []string{"agent"})

	a.Do(t, http.MethodDelete, "/sessions", body, "Authorization", bearer(t, "u1", "sessions:read")).
		WantError(t, 403, "FORBIDDEN", "Insufficient permissions. Required scope(s): sessions:delete")
	a.Do(t, http.MethodDelete, "/sessions", body, "Authorization", "Bearer s3cret-kez").WantError(t, 401, "UNAUTHENTICATED", "Invalid token")
	if res := a.Do(t, http.MethodGet, "/sessions", "", "Authorization", bearer(t, "u1", "sessions:read")); res.Status != http.StatusOK {
		t.Errorf("JWT beside the key: status = %d, want 200", res.Status)
	}
	// The key is an admin: it needs no scope.
	if res := a.Do(t, http.MethodDelete, "/sessions", body, "Authorization", "Bearer s3cret-key"); res.Status != http.StatusNoContent {
		t.Fatalf("key: status = %d, want 204 (%s)", res.Status, res.Body)
	}
	a.WantRows(t, []string{"s1"}, 0, 0)
}

func TestAuth_PublicRoutes(t *testing.T) {
	t.Parallel()
	cfg := jwtConfig()
	cfg.SecurityKey = "s3cret-key"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	if res := a.Do(t, http.MethodGet, "/health", ""); res.Status != http.StatusOK {
		t.Errorf("GET /health status = %d, want 200", res.Status)
	}
	// Unknown routes are 404, not 401: the gate authenticates only the
	// document's operations.
	res := a.Do(t, http.MethodGet, "/nowhere", "")
	if res.Status != http.StatusNotFound {
		t.Errorf("GET /nowhere status = %d, want 404", res.Status)
	}
}

func TestNewServer_IsolationNeedsJWT(t *testing.T) {
	t.Parallel()
	cfg := server.Config{MaxBatch: server.DefaultMaxBatch, MaxBodyBytes: server.DefaultMaxBodyBytes}
	cfg.SecurityKey, cfg.UserIsolation = "k", true
	_, err := server.NewServer(cfg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "JWT") {
		t.Errorf("err = %v, want one saying isolation needs a JWT key", err)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
