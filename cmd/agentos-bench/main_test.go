package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteReport_KeepsTextOutsideMarkers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := writeReport(path, "first\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	notes := strings.Replace(string(b), beginMarker, "intro\n"+beginMarker, 1) + "\n## Profile\nkept\n"
	if err := os.WriteFile(path, []byte(notes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(path, "second\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	got := string(b)
	for _, want := range []string{"intro\n" + beginMarker + "\nsecond\n" + endMarker, "## Profile\nkept\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("file after second run: got %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "first") {
		t.Errorf("file after second run still holds the first table: %q", got)
	}
}

func TestMedianAndPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in          []time.Duration
		median, p99 time.Duration
	}{
		{ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond},
		{ms(5), 5 * time.Millisecond, 5 * time.Millisecond},
	} {
		if got := median(tc.in); got != tc.median {
			t.Errorf("median(%v): got %v, want %v", tc.in, got, tc.median)
		}
		if got := percentile(tc.in, 99); got != tc.p99 {
			t.Errorf("percentile(%v, 99): got %v, want %v", tc.in, got, tc.p99)
		}
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond
	}
	if got := percentile(hundred, 99); got != 99*time.Millisecond {
		t.Errorf("p99 of 1..100 ms: got %v, want 99ms", got)
	}
	if got := percentile(hundred, 50); got != 50*time.Millisecond {
		t.Errorf("p50 of 1..100 ms: got %v, want 50ms", got)
	}
}

func TestParseFlags_RejectsBadSizes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-batches", "0"}, {"-scale", "x"}, {"-rounds", "0"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q): got no error", args)
		}
	}
}
