package server

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestRequiredScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		reqs openapi3.SecurityRequirements
		want []string
	}{
		{"Declared", openapi3.SecurityRequirements{{"HTTPBearer": {}}, {"JWTBearer": {"sessions:read"}}}, []string{"sessions:read"}},
		{"NoneDeclared", openapi3.SecurityRequirements{{"HTTPBearer": {}}}, []string{ScopeAdmin}},
		{"EmptyList", openapi3.SecurityRequirements{{"JWTBearer": {}}}, []string{ScopeAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := requiredScopes(tt.reqs); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
