package gate

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on request text that the document cannot state without breaking
// clients of the seed (a maxLength on its body is a breaking change). The
// batch limit (Config.MaxBatch) is one of them: the gate is its only owner.
const (
	// MaxIDBytes is the longest session or run id accepted, in bytes, in the
	// path and in a body.
	MaxIDBytes = 255
	// MaxJSONDepth is how deeply a request body's arrays and objects may nest.
	MaxJSONDepth = 64
)

// idParams are the path parameters and top-level body members holding ids.
var idParams = map[string]bool{"session_id": true, "run_id": true}

// checkText refuses what no database column should receive: bytes that are
// not UTF-8, and NUL, which PostgreSQL cannot store in text or jsonb.
func checkText(location, s string) error {
	if !utf8.ValidString(s) {
		return invalidInput("%s: value is not valid UTF-8", location)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalidInput("%s: value must not contain NUL characters", location)
	}
	return nil
}

// checkBodyText refuses a body that is not UTF-8, the only encoding JSON
// allows (RFC 8259).
func checkBodyText(data []byte) error {
	if !utf8.Valid(data) {
		return invalidInput("body: the JSON text is not valid UTF-8")
	}
	return nil
}

// nulInBody refuses a string of the body, at that location, holding NUL.
func nulInBody(location string) error {
	return invalidInput("body%s: text must not contain NUL characters", location)
}

// checkIDLength refuses a session or run id longer than MaxIDBytes.
func checkIDLength(location, id string) error {
	if len(id) > MaxIDBytes {
		return invalidInput("%s: ids are at most %d bytes long", location, MaxIDBytes)
	}
	return nil
}

// checkDepth refuses a body value nested deeper than MaxJSONDepth.
func checkDepth(depth int) error {
	if depth > MaxJSONDepth {
		return invalidInput("body: JSON nests deeper than %d levels", MaxJSONDepth)
	}
	return nil
}

// checkBatch refuses a bulk delete whose session_ids list has reached n
// items, n more than maxBatch. The scan counts while it reads, so a body of
// many tiny ids is refused before it is decoded into a tree.
func checkBatch(n int64, maxBatch int) error {
	if n > int64(maxBatch) {
		return invalidInput("body.session_ids: at most %d ids per request", maxBatch)
	}
	return nil
}

// checkURL checks the path parameters and every query name and value of a
// request before anything else reads them.
func checkURL(req *http.Request, names, values []string) error {
	for i, name := range names {
		v := values[i]
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		if err := checkText("path."+name, v); err != nil {
			return err
		}
		if idParams[name] {
			if err := checkIDLength("path."+name, v); err != nil {
				return err
			}
		}
	}
	for name, vs := range req.URL.Query() {
		if err := checkText("query", name); err != nil {
			return err
		}
		for _, v := range vs {
			if err := checkText("query."+name, v); err != nil {
				return err
			}
		}
	}
	return nil
}
