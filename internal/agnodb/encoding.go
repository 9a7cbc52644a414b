package agnodb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Encoding is how a JSON value is stored in a column.
type Encoding int

const (
	// Native is what agno writes in the column for the fixture's dialect
	// and layout (see the package comment for the table): on PostgreSQL the
	// value as a jsonb (or json) document, with agno's control-character
	// cleaning applied to its string values; on SQLite double-encoded text
	// for 2.x session columns and for the legacy runs column on every
	// layout, plain JSON text for 3.0 session columns (agno PR #9797) and
	// for run_data. A nil value is written as JSON null, except in the two
	// *_data columns of the other components, which agno's INSERT does not
	// name, so they stay SQL NULL.
	Native Encoding = iota
	// Plain is single-encoded JSON text, as any other writer would store
	// it; on PostgreSQL the same document as Native but not cleaned.
	Plain
	// Double is a JSON string whose content is the JSON text: agno 2.x on
	// SQLite, and agno 3.0.0a1's run_data on both dialects.
	Double
	// JSONNull is the JSON value null, what agno writes for None.
	JSONNull
	// SQLNull is SQL NULL: a column the INSERT did not name.
	SQLNull
)

// String names the encoding as the constant does.
func (e Encoding) String() string {
	switch e {
	case Native:
		return "Native"
	case Plain:
		return "Plain"
	case Double:
		return "Double"
	case JSONNull:
		return "JSONNull"
	case SQLNull:
		return "SQLNull"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// PyDumps returns v as Python's json.dumps(v) writes it with its defaults,
// which is what agno's SQLAlchemy engines bind for a JSON column: items
// separated by ", ", keys by ": ", every character outside printable ASCII
// escaped as \uXXXX (ensure_ascii, lowercase hex, surrogate pairs above
// U+FFFF), and "/", "<", ">", "&" left alone.
//
// Maps, slices, strings, booleans, integers and floats are written
// directly: a float64 as Python's repr writes a float (1.0, 1e-05, 1e+16),
// so a fixture can hold both 1 and 1.0 as agno would. Map keys come out
// sorted (a Python dict keeps insertion order; a Go map has none to keep).
// Any other value (a struct, json.RawMessage) goes through encoding/json
// first and keeps its field order, its numbers written as encoding/json
// writes them.
//
// On PostgreSQL jsonb drops the formatting, but a json column, and every
// SQLite column, keeps the text exactly, so fixtures write this text.
func PyDumps(v any) (string, error) {
	return pyDumps(v, false)
}

// pyDumps is PyDumps, optionally removing from string values (not keys)
// the characters agno's sanitize_postgres_strings removes.
func pyDumps(v any, clean bool) (string, error) {
	var out strings.Builder
	if err := writePy(&out, v, clean); err != nil {
		return "", err
	}
	return out.String(), nil
}

// writePy writes v in Python's layout.
func writePy(out *strings.Builder, v any, clean bool) error {
	switch x := v.(type) {
	case nil:
		out.WriteString("null")
	case string:
		if clean {
			x = sanitizePostgresString(x)
		}
		writePyString(out, x)
	case bool:
		out.WriteString(strconv.FormatBool(x))
	case float32:
		return writePyFloat(out, float64(x))
	case float64:
		return writePyFloat(out, x)
	case json.Number:
		if !json.Valid([]byte(x)) {
			return fmt.Errorf("invalid number %q", string(x))
		}
		out.WriteString(string(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteString(", ")
			}
			writePyString(out, k)
			out.WriteString(": ")
			if err := writePy(out, x[k], clean); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				out.WriteString(", ")
			}
			if err := writePy(out, e, clean); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case []map[string]any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = e
		}
		return writePy(out, items, clean)
	default:
		switch rv := reflect.ValueOf(v); rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			out.WriteString(strconv.FormatInt(rv.Int(), 10))
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			out.WriteString(strconv.FormatUint(rv.Uint(), 10))
			return nil
		}
		var raw bytes.Buffer
		enc := json.NewEncoder(&raw)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		dec := json.NewDecoder(&raw)
		dec.UseNumber()
		return reformat(dec, out, clean)
	}
	return nil
}

// writePyFloat writes x as Python's float repr: the shortest digits that
// read back as x, in exponent form when the decimal exponent is below -4
// or above 15 (1e-05, 1e+16), else in fixed form with at least one digit
// after the point (1.0, 0.0001).
func writePyFloat(out *strings.Builder, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("unsupported value %v (Python would write NaN or Infinity, which is not JSON)", x)
	}
	e := strconv.FormatFloat(x, 'e', -1, 64) // -d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, err := strconv.Atoi(expText)
	if err != nil {
		return err
	}
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // x = 0.digits × 10^decpt
	out.WriteString(sign)
	if decpt <= -4 || decpt > 16 {
		out.WriteString(mant)
		if exp < 0 {
			fmt.Fprintf(out, "e-%02d", -exp)
		} else {
			fmt.Fprintf(out, "e+%02d", exp)
		}
		return nil
	}
	switch {
	case decpt <= 0:
		out.WriteString("0." + strings.Repeat("0", -decpt) + digits)
	case decpt >= len(digits):
		out.WriteString(digits + strings.Repeat("0", decpt-len(digits)) + ".0")
	default:
		out.WriteString(digits[:decpt] + "." + digits[decpt:])
	}
	return nil
}

// reformat copies one JSON value from dec to out in Python's layout,
// numbers as they stand.
func reformat(dec *json.Decoder, out *strings.Builder, clean bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if v == '{' {
			closing = '}'
		}
		out.WriteByte(byte(v))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteString(", ")
			}
			if v == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				writePyString(out, key.(string))
				out.WriteString(": ")
			}
			if err := reformat(dec, out, clean); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		out.WriteByte(closing)
	case json.Number, string, bool, nil:
		return writePy(out, v, clean)
	default:
		return fmt.Errorf("unexpected JSON token %T", tok)
	}
	return nil
}

// writePyString writes s as a JSON string the way Python's json module does
// with ensure_ascii=True: only the characters from space to "~" stay as
// they are, apart from `"` and `\`.
func writePyString(out *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		out.WriteString(`\u`)
		out.WriteByte(hex[r>>12&0xf])
		out.WriteByte(hex[r>>8&0xf])
		out.WriteByte(hex[r>>4&0xf])
		out.WriteByte(hex[r&0xf])
	}
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			out.WriteRune(r)
		case r < 0x10000:
			u4(r)
		default:
			r -= 0x10000
			u4(0xd800 | (r>>10)&0x3ff)
			u4(0xdc00 | r&0x3ff)
		}
	}
	out.WriteByte('"')
}

// sanitizePostgresString removes what agno's sanitize_postgres_string
// (libs/agno/agno/utils/string.py) removes before a PostgreSQL write:
// [\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff].
func sanitizePostgresString(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r <= 0x08, r == 0x0b, r == 0x0c, r >= 0x0e && r <= 0x1f, r == 0xfffe, r == 0xffff:
			return -1
		}
		return r
	}, s)
}

// storedText is what an INSERT binds for one JSON column.
type storedText struct {
	text string
	omit bool // SQL NULL: the column is left out of the INSERT
}

// encodeAs renders v in a concrete encoding (never Native). clean applies
// agno's PostgreSQL cleaning to string values.
func encodeAs(v any, e Encoding, clean bool) (storedText, error) {
	switch e {
	case SQLNull:
		return storedText{omit: true}, nil
	case JSONNull:
		return storedText{text: "null"}, nil
	case Plain:
		s, err := pyDumps(v, clean)
		return storedText{text: s}, err
	case Double:
		inner, err := pyDumps(v, clean)
		if err != nil {
			return storedText{}, err
		}
		s, err := pyDumps(inner, false)
		return storedText{text: s}, err
	}
	return storedText{}, fmt.Errorf("encoding %v is not concrete", e)
}

// DecodeStored parses text as agno's readers do (reference §5, "A reader
// must accept every shape"): parse it, and if the result is a string, parse
// that once more. It lets tests compare what a fixture stored with the
// value it was given, whatever the encoding.
func DecodeStored(text string) (any, error) {
	v, err := decodeOne(text)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		return decodeOne(s)
	}
	return v, nil
}

// decodeOne parses one JSON value, numbers as json.Number.
func decodeOne(text string) (any, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("stored JSON is not UTF-8")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("stored JSON has text after its value")
	}
	return v, nil
}
