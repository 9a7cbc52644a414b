package gate

import (
	"net/http"
	"testing"
)

func TestPrefersRepresentation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool
	}{
		{"return=representation", true},
		{"RETURN=Representation", true},
		{"respond-async, return=representation", true},
		{` return = "representation" ; charset=x`, true},
		{"return=minimal", false},
		{"return=representation-ish", false},
		{"handling=lenient", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := prefersRepresentation(tt.header); got != tt.want {
			t.Errorf("prefersRepresentation(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
	if preferences(http.Header{}).ReturnRepresentation {
		t.Error("no Prefer header: ReturnRepresentation, want none")
	}
}
