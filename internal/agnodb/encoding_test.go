package agnodb

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The want strings below were printed by CPython 3's json.dumps, the
// serializer agno's SQLAlchemy engines use.
func TestPyDumps(t *testing.T) {
	type point struct {
		Y int    `json:"y"`
		X string `json:"x"`
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"Unicode", map[string]any{"session_name": "Café ☕ 𝄞", "n": 1},
			`{"n": 1, "session_name": "Caf\u00e9 \u2615 \ud834\udd1e"}`},
		{"Controls", map[string]any{"s": "a\x01b\x7f\n\r\t\b\f\"\\/<>&\u2028"},
			`{"s": "a\u0001b\u007f\n\r\t\b\f\"\\/<>&\u2028"}`},
		{"Nested", map[string]any{"a": []any{1, 2.5, map[string]any{}, []any{}, nil, true, false}, "b": map[string]any{"c": "d"}},
			`{"a": [1, 2.5, {}, [], null, true, false], "b": {"c": "d"}}`},
		{"Floats", []any{1.0, 1e16, 1e15, 0.0001, 0.00001, 1.5e16, negZero(), 0.1, 1700000000.0, 1e22, -2.5e-07, 12345.678},
			`[1.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, 1.5e+16, -0.0, 0.1, 1700000000.0, 1e+22, -2.5e-07, 12345.678]`},
		{"Ints", []any{int64(1700000000), 0, -3, uint8(7)}, `[1700000000, 0, -3, 7]`},
		{"DoubleEncoded", `{"n": 1, "session_name": "Caf\u00e9 \u2615 \ud834\udd1e"}`,
			`"{\"n\": 1, \"session_name\": \"Caf\\u00e9 \\u2615 \\ud834\\udd1e\"}"`},
		{"StructKeepsFieldOrder", point{Y: 2, X: "é"}, `{"y": 2, "x": "\u00e9"}`},
		{"RawMessage", json.RawMessage(`{"b":1,"a":[true,null]}`), `{"b": 1, "a": [true, null]}`},
		{"RunsSlice", []map[string]any{{"run_id": "r1"}}, `[{"run_id": "r1"}]`},
		{"Nil", nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PyDumps(tt.in)
			if err != nil {
				t.Fatalf("PyDumps: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

func TestPyDumpsRejectsNaN(t *testing.T) {
	if got, err := PyDumps(map[string]any{"x": nanValue()}); err == nil {
		t.Errorf("got %s, want an error: NaN is not JSON", got)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestSanitizePostgresString(t *testing.T) {
	in := "a\x00b\x08c\tn\nr\rv\x0bf\x0cx\x1fy\ufffez\uffffé"
	want := "abc\tn\nr\rvfxyzé"
	if got := sanitizePostgresString(in); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEncodeAs(t *testing.T) {
	v := map[string]any{"k\x01": "a\x01b"}
	tests := []struct {
		enc   Encoding
		clean bool
		want  storedText
	}{
		{Plain, false, storedText{text: `{"k\u0001": "a\u0001b"}`}},
		{Plain, true, storedText{text: `{"k\u0001": "ab"}`}},
		{Double, false, storedText{text: `"{\"k\\u0001\": \"a\\u0001b\"}"`}},
		{JSONNull, false, storedText{text: "null"}},
		{SQLNull, false, storedText{omit: true}},
	}
	for _, tt := range tests {
		got, err := encodeAs(v, tt.enc, tt.clean)
		if err != nil {
			t.Fatalf("%v: %v", tt.enc, err)
		}
		if got != tt.want {
			t.Errorf("%v (clean %t): got %+v, want %+v", tt.enc, tt.clean, got, tt.want)
		}
	}
	if _, err := encodeAs(v, Native, false); err == nil {
		t.Errorf("Native: got no error, want one: it must be resolved first")
	}
}

func TestDecodeStored(t *testing.T) {
	want := map[string]any{"session_name": "Hé"}
	for _, text := range []string{`{"session_name": "H\u00e9"}`, `"{\"session_name\": \"H\\u00e9\"}"`} {
		got, err := DecodeStored(text)
		if err != nil {
			t.Fatalf("DecodeStored(%s): %v", text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeStored(%s): got %v, want %v", text, got, want)
		}
	}
	for _, bad := range []string{`{"a": 1} x`, `"not json"`, `{`} {
		if got, err := DecodeStored(bad); err == nil {
			t.Errorf("DecodeStored(%s): got %v, want an error", bad, got)
		}
	}
}

func TestPyISOFormat(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 8, 23, 14, 5, 9, 482113000, loc), "2026-08-23T14:05:09.482113"},
		{time.Date(2026, 8, 23, 14, 5, 9, 999, loc), "2026-08-23T14:05:09"},
		{time.Date(2026, 8, 23, 14, 5, 9, 1000, loc), "2026-08-23T14:05:09.000001"},
	}
	for _, tt := range tests {
		if got := pyISOFormat(tt.in); got != tt.want {
			t.Errorf("pyISOFormat(%v): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
