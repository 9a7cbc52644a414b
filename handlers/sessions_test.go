package handlers

import "testing"

func TestPrefersRepresentation(t *testing.T) {
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
		h := tt.header
		if got := prefersRepresentation(&h); got != tt.want {
			t.Errorf("prefersRepresentation(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
	if prefersRepresentation(nil) {
		t.Error("prefersRepresentation(nil) = true, want false")
	}
}
