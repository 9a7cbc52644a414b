package gate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// decodeLikeKinOpenAPI is kin-openapi's JSON body decoder: one value, numbers
// as json.Number, and whatever follows the value ignored.
func decodeLikeKinOpenAPI(data []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// FuzzScanBody checks that the value scanBody builds is the value
// kin-openapi's decoder makes of the same body, whenever scanBody says the
// body was exactly one JSON value, that it says so for every such body it
// does not refuse, and that it refuses a body whose value has text after
// it. make test replays the seeds.
func FuzzScanBody(f *testing.F) {
	for _, seed := range []string{
		`{"session_ids":["a1","a2"],"session_types":["agent","team"]}`,
		`{"a":{"b":[1,-2.5e3,0,true,false,null,"x\u00e9\n\"",{}],"c":[]},"d":12345678901234567890123}`,
		`[]`, `"s"`, `0`, `null`, ` {"a":1} `,
		`{"a":1} {"b":2}`, `{"a":1} x`, `{"a":`, ``, `{"a":1,"a":2}`, "{\"a\":\"\x00\"}",
		`{"session_ids":[["x"],{"y":1},"z"]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, complete, err := scanBody(data, 1000)
		if err != nil {
			return // refused as hostile, before any decoder sees it
		}
		if first, err := decodeLikeKinOpenAPI(data); err == nil {
			var whole any
			if json.Unmarshal(data, &whole) != nil {
				t.Fatalf("scanBody(%q): accepted, but text follows its value %#v", data, first)
			}
		}
		if !complete {
			var v any
			if json.Unmarshal(data, &v) == nil {
				t.Fatalf("scanBody(%q): not complete, but it is one JSON value", data)
			}
			return
		}
		want, wantErr := decodeLikeKinOpenAPI(data)
		if wantErr != nil {
			t.Fatalf("scanBody(%q): complete, but the decoder fails: %v", data, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("scanBody(%q):\n got %#v\nwant %#v", data, got, want)
		}
	})
}
