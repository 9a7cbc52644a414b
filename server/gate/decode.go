package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// scanBody reads a JSON body token by token and refuses what the decoders
// behind it would accept silently or at great cost: duplicate member names,
// text that is not UTF-8 or holds NUL, nesting deeper than MaxJSONDepth,
// ids longer than MaxIDBytes and more than maxBatch session_ids.
//
// Text after the body's JSON value is refused too: kin-openapi's decoder,
// like encoding/json's Decoder, would read the first value and ignore the
// rest, so `{…} garbage` or two objects in a row would pass.
//
// From the same tokens it builds the body's value the way kin-openapi's
// JSON decoder does (objects as map[string]any, arrays as []any, numbers as
// json.Number), so the body is decoded once. complete is false when the
// body holds no whole JSON value (a syntax error, an empty body): those are
// left to kin-openapi, which words them.
func scanBody(data []byte, maxBatch int) (value any, complete bool, err error) {
	if err := checkBodyText(data); err != nil {
		return nil, false, err
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	var (
		member string      // the top-level member being read
		stack  []treeFrame // the objects and arrays being built
		done   bool        // the first value is complete
	)
	add := func(v any) {
		if len(stack) == 0 {
			value, done = v, true
			return
		}
		top := &stack[len(stack)-1]
		if top.object != nil {
			top.object[top.name] = v
		} else {
			top.array = append(top.array, v)
		}
	}
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			var syntaxErr *jsontext.SyntacticError
			if errors.As(err, &syntaxErr) && errors.Is(err, jsontext.ErrDuplicateName) {
				return nil, false, invalidInput("body%s: member appears more than once", location(syntaxErr.JSONPointer))
			}
			if done && !errors.Is(err, io.EOF) {
				return nil, false, invalidInput("body: text follows the JSON value")
			}
			// The end, or a syntax error validateBody reports.
			return value, done, nil
		}
		if done {
			return nil, false, invalidInput("body: text follows the JSON value")
		}
		depth := dec.StackDepth()
		if err := checkDepth(depth); err != nil {
			return nil, false, err
		}
		if depth == 2 && member == "session_ids" {
			if kind, n := dec.StackIndex(2); kind == '[' {
				if err := checkBatch(n, maxBatch); err != nil {
					return nil, false, err
				}
			}
		}
		switch tok.Kind() {
		case '{':
			stack = append(stack, treeFrame{object: make(map[string]any)})
			continue
		case '[':
			stack = append(stack, treeFrame{array: make([]any, 0)})
			continue
		case '}', ']':
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.object != nil {
				add(top.object)
			} else {
				add(top.array)
			}
			continue
		case 'n':
			add(nil)
		case 't', 'f':
			add(tok.Bool())
		case '0':
			add(json.Number(tok.String()))
		case '"':
			s := tok.String()
			kind, n := dec.StackIndex(depth)
			isName := kind == '{' && n%2 == 1
			if strings.IndexByte(s, 0) >= 0 {
				at := dec.StackPointer()
				if isName {
					at = at.Parent() // the name itself cannot be echoed
				}
				return nil, false, nulInBody(location(at))
			}
			if isName {
				stack[len(stack)-1].name = s
				if depth == 1 {
					member = s
				}
				continue
			}
			isID := (depth == 1 && idParams[member]) || (depth == 2 && member == "session_ids")
			if isID {
				if err := checkIDLength("body"+location(dec.StackPointer()), s); err != nil {
					return nil, false, err
				}
			}
			add(s)
		}
	}
}

// treeFrame is an object or an array scanBody is building.
type treeFrame struct {
	object map[string]any // nil for an array
	name   string         // the object member whose value comes next
	array  []any
}

// maxLocationBytes bounds the part of an error detail that echoes member
// names, which a client may make as long as the body.
const maxLocationBytes = 128

// location writes a JSON pointer the way error details name places:
// /session_ids/3 becomes .session_ids.3.
func location(p jsontext.Pointer) string {
	loc := strings.ReplaceAll(string(p), "/", ".")
	if len(loc) > maxLocationBytes {
		loc = strings.ToValidUTF8(loc[:maxLocationBytes], "") + "…"
	}
	return loc
}
