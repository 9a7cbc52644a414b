package agnodb

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestColumnsMatchAgnoSource pins the column lists written out in
// columns.go to agno's own schema dicts: names in order, SQLAlchemy type,
// nullability and single-column indexes. agno is Python and not a module
// this build can fetch, so the test reads a git clone of agno-agi/agno
// named by AGNO_REPO (refs main = 2.9.0 and feat/v3.0), and is skipped
// without one.
func TestColumnsMatchAgnoSource(t *testing.T) {
	repo := os.Getenv("AGNO_REPO")
	if repo == "" {
		t.Skip("AGNO_REPO unset: set it to a clone of agno-agi/agno to check the column lists against agno's schema dicts")
	}
	const pg, lite = "libs/agno/agno/db/postgres/schemas.py", "libs/agno/agno/db/sqlite/schemas.py"
	tests := []struct {
		ref, file, start string
		want             []column
	}{
		{"main", pg, "\nSESSION_TABLE_SCHEMA = {", sessionColumns(true)},
		{"main", lite, "\nSESSION_TABLE_SCHEMA = {", sessionColumns(true)},
		{"feat/v3.0", pg, "\nSESSION_TABLE_SCHEMA = {", sessionColumns(false)},
		{"feat/v3.0", lite, "\nSESSION_TABLE_SCHEMA = {", sessionColumns(false)},
		{"feat/v3.0", pg, "\ndef _get_run_table_schema", runColumns()},
		{"feat/v3.0", lite, "\ndef _get_run_table_schema", runColumns()},
		{"feat/v3.0", pg, "\nTOOL_RESULTS_TABLE_SCHEMA = {", toolResultColumns()},
		{"feat/v3.0", lite, "\nTOOL_RESULTS_TABLE_SCHEMA = {", toolResultColumns()},
		{"feat/v3.0", pg, "\nVERSIONS_TABLE_SCHEMA = {", versionColumns()},
		{"feat/v3.0", lite, "\nVERSIONS_TABLE_SCHEMA = {", versionColumns()},
	}
	for _, tt := range tests {
		t.Run(tt.ref+":"+tt.file+":"+strings.TrimSpace(tt.start), func(t *testing.T) {
			src := gitShow(t, repo, tt.ref, tt.file)
			got := parseSchemaDict(t, src, tt.start)
			want := make([]string, len(tt.want))
			for i, c := range tt.want {
				want[i] = describe(c, tt.file == lite)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("columns:\ngot (agno)\n  %s\nwant (columns.go)\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
	t.Run("feat/v3.0:libs/agno/agno/fs/db.py", func(t *testing.T) {
		src := gitShow(t, repo, "feat/v3.0", "libs/agno/agno/fs/db.py")
		var got []string
		for _, m := range regexp.MustCompile(`Column\("(\w+)", (\w+)(.*)\)`).FindAllStringSubmatch(src, -1) {
			notNull := strings.Contains(m[3], "primary_key=True") || strings.Contains(m[3], "nullable=False")
			got = append(got, describeRaw(m[1], m[2], notNull, false))
		}
		var want []string
		for _, c := range fsColumns() {
			want = append(want, describe(c, false))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("agno_fs columns:\ngot (agno)\n  %s\nwant (columns.go)\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	})
}

func gitShow(t *testing.T, repo, ref, file string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "show", ref+":"+file).Output()
	if err != nil {
		t.Fatalf("git show %s:%s: %v", ref, file, err)
	}
	return string(out)
}

// parseSchemaDict lists the columns of the schema dict that starts at
// start in src: each top-level key whose value is a dict, in order.
func parseSchemaDict(t *testing.T, src, start string) []string {
	t.Helper()
	i := strings.Index(src, start)
	if i < 0 {
		t.Fatalf("%q not found", start)
	}
	body := src[i+len(start):]
	// The dict ends at the first closing brace alone on its line.
	if end := regexp.MustCompile(`(?m)^\s*}\s*$`).FindStringIndex(body); end != nil {
		body = body[:end[0]]
	}
	keys := regexp.MustCompile(`(?m)^\s+"(\w+)": \{`).FindAllStringSubmatchIndex(body, -1)
	var out []string
	for k, m := range keys {
		endAt := len(body)
		if k+1 < len(keys) {
			endAt = keys[k+1][0]
		}
		entry := body[m[1]:endAt]
		typ := regexp.MustCompile(`"type": (\w+)`).FindStringSubmatch(entry)
		if typ == nil {
			t.Fatalf("column %s has no type", body[m[2]:m[3]])
		}
		notNull := strings.Contains(entry, `"nullable": False`) || strings.Contains(entry, `"primary_key": True`)
		out = append(out, describeRaw(body[m[2]:m[3]], typ[1], notNull, strings.Contains(entry, `"index": True`)))
	}
	return out
}

// describe renders a column of columns.go in agno's terms.
func describe(c column, sqlite bool) string {
	typ := map[kind]string{kindString: "String", kindJSON: "JSONB", kindBigInt: "BigInteger", kindText: "Text", kindPreview: "Text"}[c.kind]
	if sqlite && c.kind == kindJSON {
		typ = "JSON"
	}
	if sqlite && c.kind == kindPreview {
		typ = "String"
	}
	return describeRaw(c.name, typ, c.notNull, c.index)
}

func describeRaw(name, typ string, notNull, index bool) string {
	s := name + " " + typ
	if notNull {
		s += " NOT NULL"
	}
	if index {
		s += " indexed"
	}
	return s
}
