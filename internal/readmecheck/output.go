package readmecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Step is a command of a block, one or more lines, and the output the
// README shows right after it.
type Step struct {
	Command string
	Line    int // of the command's first line in the README
	Want    []Output
}

// Output is one piece of output the README shows: an HTTP status line, or
// a JSON value.
type Output struct {
	Line   int    // of its first comment line in the README
	Status string // HTTP/1.1 204 No Content; "" for JSON
	JSON   any    // decoded with json.Number
}

// Steps splits a block's code into commands, each the lines up to a blank
// or a comment line, with the output shown in the comment lines right
// after it. comment is the language's comment prefix (# or //).
func Steps(b Block, comment string) ([]Step, error) {
	var (
		steps   []Step
		cur     *Step
		pending []string // comment lines right after cur's command
		first   int      // README line of pending[0]
		lines   = strings.Split(b.Code, "\n")
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		want, err := outputs(pending, first)
		if err != nil {
			return err
		}
		cur.Want = want
		steps = append(steps, *cur)
		cur, pending = nil, nil
		return nil
	}
	for i, line := range lines {
		n := b.Line + 1 + i
		text := strings.TrimSpace(line)
		switch {
		case text == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(text, comment):
			if cur != nil {
				if len(pending) == 0 {
					first = n
				}
				pending = append(pending, strings.TrimSpace(strings.TrimPrefix(text, comment)))
			}
		default:
			if len(pending) > 0 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			if cur == nil {
				cur = &Step{Line: n}
				cur.Command = line
			} else {
				cur.Command += "\n" + line
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return steps, nil
}

// outputs reads the output shown in comment lines that follow a command,
// up to the first line of prose. A line that starts with { or [ starts a
// JSON value, which may go on over the next lines; it must be valid.
func outputs(comments []string, line int) ([]Output, error) {
	var out []Output
	for i := 0; i < len(comments); i++ {
		c := comments[i]
		switch {
		case strings.HasPrefix(c, "HTTP/"):
			out = append(out, Output{Line: line + i, Status: c})
		case strings.HasPrefix(c, "{") || strings.HasPrefix(c, "["):
			text, start := c, i
			v, err := decode(text)
			for err != nil && i+1 < len(comments) {
				i++
				text += "\n" + comments[i]
				v, err = decode(text)
			}
			if err != nil {
				return nil, fmt.Errorf("README.md:%d: the output shown is not valid JSON: %w", line+start, err)
			}
			out = append(out, Output{Line: line + start, JSON: v})
		default:
			if v, err := decode(c); err == nil {
				out = append(out, Output{Line: line + i, JSON: v}) // a number, a string, true…
				continue
			}
			return out, nil // prose
		}
	}
	return out, nil
}

// decode reads one JSON value, numbers as json.Number.
func decode(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("text after the JSON value")
	}
	return v, nil
}

// Match checks that got, what a command printed, holds the outputs want
// in order: a status must be the next line that is not empty; a JSON value
// is compared with the next line that is JSON (curl -i's headers are
// passed over).
func Match(want []Output, got string) error {
	lines := strings.Split(got, "\n")
	next := 0
	for _, w := range want {
		found := false
		for ; next < len(lines) && !found; next++ {
			line := strings.TrimSpace(lines[next])
			if line == "" {
				continue
			}
			if w.Status != "" {
				if !strings.HasPrefix(line, w.Status) {
					return fmt.Errorf("README.md:%d: want %q, got %q", w.Line, w.Status, line)
				}
				found = true
				continue
			}
			v, err := decode(line)
			if err != nil {
				continue
			}
			if err := subset(w.JSON, v, "$"); err != nil {
				return fmt.Errorf("README.md:%d: %w\ngot %s", w.Line, err, line)
			}
			found = true
		}
		if !found {
			return fmt.Errorf("README.md:%d: nothing printed matches the output shown", w.Line)
		}
	}
	return nil
}

// Shapes of values that differ from run to run: an expected value of one
// of them matches any value of the same shape.
var shapes = []struct {
	name string
	re   *regexp.Regexp
}{
	{"a UUID", regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
	{"a timestamp", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)},
	{"a request id", regexp.MustCompile(`^[0-9a-f]{32}$`)},
}

// subset reports how got fails to hold want, at path.
func subset(want, got any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %s", path, compact(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: no member %q", path, k)
			}
			if err := subset(wv, gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: want %d items, got %s", path, len(w), compact(got))
		}
		if !matchAnyOrder(w, g, make([]bool, len(g)), path) {
			// In order, for a message that names the first difference.
			for i := range w {
				if err := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return fmt.Errorf("%w (items compared in any order)", err)
				}
			}
		}
		return nil
	case string:
		g, ok := got.(string)
		if !ok {
			return fmt.Errorf("%s: want %q, got %s", path, w, compact(got))
		}
		for _, s := range shapes {
			if s.re.MatchString(w) {
				if !s.re.MatchString(g) {
					return fmt.Errorf("%s: want %s, got %q", path, s.name, g)
				}
				return nil
			}
		}
		if !glob(w, g) {
			return fmt.Errorf("%s: want %q, got %q", path, w, g)
		}
		return nil
	case json.Number:
		g, ok := got.(json.Number)
		if !ok || !sameNumber(w, g) {
			return fmt.Errorf("%s: want %s, got %s", path, w, compact(got))
		}
		return nil
	default: // true, false, null
		if want != got {
			return fmt.Errorf("%s: want %s, got %s", path, compact(want), compact(got))
		}
		return nil
	}
}

// matchAnyOrder reports whether each item of want holds a different item
// of got.
func matchAnyOrder(want, got []any, used []bool, path string) bool {
	if len(want) == 0 {
		return true
	}
	for j := range got {
		if !used[j] && subset(want[0], got[j], path) == nil {
			used[j] = true
			if matchAnyOrder(want[1:], got, used, path) {
				return true
			}
			used[j] = false
		}
	}
	return false
}

// glob matches s against pattern, where … stands for any text.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "…")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, err1 := a.Float64()
	y, err2 := b.Float64()
	return err1 == nil && err2 == nil && x == y
}

func compact(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}
