package readmecheck

import (
	"slices"
	"strings"
	"testing"
)

const sample = "# Title\n" +
	"\n" +
	"## Using it\n" +
	"\n" +
	"```sh\n" +
	"curl -s http://127.0.0.1:7777/health\n" +
	"# {\"status\":\"ok\"}\n" +
	"```\n" +
	"\n" +
	"Save this as `agentos.yaml`:\n" +
	"\n" +
	"```yaml\n" +
	"databases: []\n" +
	"```\n" +
	"\n" +
	"Then `OS_SECURITY_KEY=k agentos-sessions serve --config agentos.yaml`:\n" +
	"\n" +
	"```sh\n" +
	"curl -s http://127.0.0.1:7777/sessions\n" +
	"```\n" +
	"\n" +
	"<!-- readme-check: skip: needs a real agno database -->\n" +
	"```sh\n" +
	"curl -s http://127.0.0.1:7777/x\n" +
	"```\n" +
	"\n" +
	"## Next\n" +
	"\n" +
	"```python\n" +
	"print(1)\n" +
	"```\n"

func TestParse(t *testing.T) {
	t.Parallel()
	blocks, err := Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range blocks {
		got = append(got, strings.Join([]string{b.Lang, b.Runs(), b.Setup.Text, b.Setup.Config(), b.Skip, strings.Join(b.Names, ",")}, "|"))
	}
	want := []string{
		"sh|sh|make run|||",
		"yaml||make run|||agentos.yaml",
		"sh|sh|OS_SECURITY_KEY=k agentos-sessions serve --config agentos.yaml|agentos.yaml||",
		"sh|sh|OS_SECURITY_KEY=k agentos-sessions serve --config agentos.yaml|agentos.yaml|needs a real agno database|",
		"python|python|make run|||", // a level-2 heading ends a setup
	}
	if !slices.Equal(got, want) {
		t.Errorf("blocks (lang|runs|setup|config|skip|names):\ngot  %q\nwant %q", got, want)
	}
	if blocks[0].Line != 5 || blocks[0].Code != "curl -s http://127.0.0.1:7777/health\n# {\"status\":\"ok\"}" {
		t.Errorf("first block: line %d, code %q", blocks[0].Line, blocks[0].Code)
	}

	for code, want := range map[string]string{
		"make run    # then curl it":         "",
		"# curl http://127.0.0.1:7777/x\nls": "",
		"  curl -s x":                        "sh",
		"h=$(curl -s x)":                     "sh",
	} {
		if got := (Block{Lang: "sh", Code: code}).Runs(); got != want {
			t.Errorf("Runs of %q = %q, want %q", code, got, want)
		}
	}

	for _, bad := range []string{"<!-- readme-check: skip -->\n", "<!-- readme-check: skip:   -->\n", "<!-- readme-check: skipp: x -->\n", "```sh\ncurl x\n"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestSteps(t *testing.T) {
	t.Parallel()
	code := strings.Join([]string{
		"# Create one.",
		"curl -s -X POST x \\",
		"  -d '{}'",
		`# {"a":1,`,
		`#  "b":[2]}`,
		"# Prose after the output.",
		"curl -si y",
		"# HTTP/1.1 204 No Content",
		"",
		"make run &",
		"# header {\"alg\":\"HS256\"}; payload …",
		"echo 7",
		"# 7",
	}, "\n")
	steps, err := Steps(Block{Code: code, Line: 10}, "#")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		var outs []string
		for _, o := range s.Want {
			outs = append(outs, o.Status+compact(o.JSON))
		}
		got = append(got, strings.Join(append([]string{s.Command}, outs...), " => "))
	}
	want := []string{
		"curl -s -X POST x \\\n  -d '{}' => {\"a\":1,\"b\":[2]}",
		"curl -si y => HTTP/1.1 204 No Contentnull",
		"make run &",
		"echo 7 => 7",
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps:\ngot  %q\nwant %q", got, want)
	}
	if steps[0].Line != 12 || steps[0].Want[0].Line != 14 {
		t.Errorf("lines: command %d, output %d; want 12 and 14", steps[0].Line, steps[0].Want[0].Line)
	}
	if _, err := Steps(Block{Code: "curl x\n# {\"a\":", Line: 1}, "#"); err == nil {
		t.Errorf("output that is not valid JSON: no error")
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	out := func(json string) []Output {
		v, err := decode(json)
		if err != nil {
			t.Fatal(err)
		}
		return []Output{{JSON: v}}
	}
	tests := []struct {
		name string
		want []Output
		got  string
		ok   bool
	}{
		{"Subset", out(`{"a":1}`), `{"a":1,"b":2}`, true},
		{"MissingMember", out(`{"a":1,"c":3}`), `{"a":1,"b":2}`, false},
		{"OtherValue", out(`{"a":"x"}`), `{"a":"y"}`, false},
		{"NumbersBySize", out(`{"a":1.0}`), `{"a":1}`, true},
		{"ArrayAnyOrder", out(`[{"id":"b"},{"id":"a"}]`), `[{"id":"a","n":1},{"id":"b"}]`, true},
		{"ArrayLength", out(`[{"id":"a"}]`), `[{"id":"a"},{"id":"b"}]`, false},
		{"ArrayEachItemOnce", out(`[{"id":"a"},{"id":"a"}]`), `[{"id":"a"},{"id":"b"}]`, false},
		{"UUIDByShape", out(`{"id":"9655edb5-524b-4cd9-8fd0-c0637d8c29d2"}`), `{"id":"0b6c3f4e-1111-4cd9-8fd0-c0637d8c29d2"}`, true},
		{"UUIDShapeOnly", out(`{"id":"9655edb5-524b-4cd9-8fd0-c0637d8c29d2"}`), `{"id":"r-1"}`, false},
		{"TimestampByShape", out(`{"t":"2026-11-27T09:00:00Z"}`), `{"t":"2031-01-02T03:04:05.123+01:00"}`, true},
		{"TimestampShapeOnly", out(`{"t":"2026-11-27T09:00:00Z"}`), `{"t":1795780544}`, false},
		{"RequestIDByShape", out(`{"r":"4595b83c5ba73816f456cc6ae8ad331b"}`), `{"r":"562020ba7663f74182da49921af77843"}`, true},
		{"Ellipsis", out(`{"d":"Failed (request id: …)"}`), `{"d":"Failed (request id: 3f2b)"}`, true},
		{"EllipsisKeepsTheRest", out(`{"d":"Failed (request id: …)"}`), `{"d":"Failed: 3f2b"}`, false},
		{"NullIsNotAbsent", out(`{"a":null}`), `{}`, false},
		{"SkipsHeadersToTheBody", out(`{"a":1}`), "HTTP/1.1 200 OK\nX-Request-Id: x\n\n{\"a\":1}", true},
		{"NothingPrinted", out(`{"a":1}`), "", false},
		{"Status", []Output{{Status: "HTTP/1.1 204 No Content"}}, "\nHTTP/1.1 204 No Content\r\nDate: x", true},
		{"OtherStatus", []Output{{Status: "HTTP/1.1 204 No Content"}}, "HTTP/1.1 200 OK\r\n", false},
		{"InOrder", append(out(`1`), out(`2`)...), "2\n1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Match(tt.want, tt.got); (err == nil) != tt.ok {
				t.Errorf("Match(%s) = %v, want ok %t", tt.got, err, tt.ok)
			}
		})
	}
}

func TestInlineSetup(t *testing.T) {
	t.Parallel()
	b := Block{Code: "export A=1 B=two\nmake run &\ncurl x", Line: 1, Setup: defaultSetup}
	setup, code, err := inlineSetup(b, b.Setup)
	if err != nil {
		t.Fatal(err)
	}
	if setup.Text != "A=1 B=two make run" || !slices.Equal(setup.Env, []string{"A=1", "B=two"}) || strings.Contains(code, "make run") {
		t.Errorf("got %+v and %q; want the exported variables as its environment and the line taken out", setup, code)
	}
}
