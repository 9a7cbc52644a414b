// Package readmecheck runs README.md's examples as a new user would, in
// order: every sh block that calls curl, and the Go and Python client
// examples, each against a server started the way the text before it says
// (the default `make run` unless the text names another setup), and it
// compares what they print with the output the README shows after each
// command. The TypeScript example is run by make test-clients instead.
//
// What the README says, the check reads:
//
//   - A setup is a code span in the text before a block, such as
//     `OS_SECURITY_KEY=s3cret make run` or `agentos-sessions serve --config
//     agentos.yaml`: environment assignments, then make run or
//     agentos-sessions serve and its flags. It holds until the next
//     level-2 heading. A line `make run &` or `agentos-sessions serve … &`
//     inside a block, after `export` lines, is a setup too. Each setup gets
//     a server of its own on a fresh database, started at its first block
//     and kept for the later ones, so that examples build on each other.
//   - A config file is a yaml block whose preceding text names it in a code
//     span (`agentos.yaml`); a setup with --config gets it.
//   - Output is the comment lines right after a command: JSON (over one or
//     more lines) or an HTTP status line (HTTP/1.1 204 No Content). JSON is
//     compared as a subset of what came back: objects may have more
//     members, arrays match in any order; a UUID, a timestamp or a request
//     id matches any value of that shape, and … in a string matches any
//     text. Other comments are prose.
//   - <!-- readme-check: skip: REASON --> just before a block skips it, and
//     the check says so with the reason. A block is skipped no other way.
package readmecheck

import (
	"fmt"
	"regexp"
	"strings"
)

// Block is one fenced code block of the README.
type Block struct {
	Lang string // the fence's info string: sh, go, python, ts, yaml, …
	Code string // the lines between the fences
	Line int    // line number of the opening fence, from 1
	// Skip is the reason given by a skip marker just before the block.
	Skip string
	// Setup is how the server of the block's examples is started.
	Setup Setup
	// Names are the file names (*.yaml, *.yml) the text before the block
	// names in code spans: a yaml block is the file of those names.
	Names []string
}

// Setup is how a server is started: the environment it gets and the flags
// of serve, as the README writes them.
type Setup struct {
	Env  []string // NAME=value
	Args []string // serve's flags (--addr is the check's)
	// Text is the setup as the README writes it, "make run" by default.
	Text string
}

// Config is the file a setup's --config names, "" when none.
func (s Setup) Config() string {
	for i, a := range s.Args {
		if a == "--config" && i+1 < len(s.Args) {
			return s.Args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
	}
	return ""
}

var (
	fence      = regexp.MustCompile("^ {0,3}```\\s*([A-Za-z0-9_+-]*)\\s*$")
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	setupSpan  = regexp.MustCompile(`^((?:[A-Z][A-Z0-9_]*=\S*\s+)*)(make run|agentos-sessions serve)((?:\s+\S+)*)$`)
	marker     = regexp.MustCompile(`^<!--\s*readme-check:\s*(.*?)\s*-->$`)
	configFile = regexp.MustCompile(`^[\w./-]+\.ya?ml$`)
)

// defaultSetup is the server `make run` starts.
var defaultSetup = Setup{Text: "make run"}

// Parse reads the fenced blocks of a README, with the setup, skip marker
// and file names the text before each gives. A readme-check marker that is
// not a skip with a reason is an error, so that a misspelt one cannot pass
// unnoticed.
func Parse(readme string) ([]Block, error) {
	var (
		blocks []Block
		prose  []string // text since the previous block
		setup  = defaultSetup
		open   *Block
		code   []string
		skip   string
	)
	for i, line := range strings.Split(readme, "\n") {
		if open != nil {
			if strings.TrimSpace(line) == "```" {
				open.Code = strings.Join(code, "\n")
				blocks = append(blocks, *open)
				open, code, prose = nil, nil, nil
				continue
			}
			code = append(code, line)
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil {
			b := Block{Lang: m[1], Line: i + 1, Skip: skip, Setup: setup}
			for _, span := range codeSpan.FindAllStringSubmatch(strings.Join(prose, "\n"), -1) {
				if configFile.MatchString(span[1]) {
					b.Names = append(b.Names, span[1])
				}
			}
			open, skip = &b, ""
			continue
		}
		if strings.HasPrefix(line, "## ") {
			setup = defaultSetup
		}
		if m := marker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			reason, ok := strings.CutPrefix(m[1], "skip:")
			if !ok || strings.TrimSpace(reason) == "" {
				return nil, fmt.Errorf("README.md:%d: a readme-check marker is <!-- readme-check: skip: REASON -->, not %q", i+1, line)
			}
			skip = strings.TrimSpace(reason)
			continue
		}
		if strings.TrimSpace(line) != "" {
			skip = "" // a marker applies to the block right after it
		}
		for _, span := range codeSpan.FindAllStringSubmatch(line, -1) {
			if s, ok := parseSetup(span[1]); ok {
				setup = s
			}
		}
		prose = append(prose, line)
	}
	if open != nil {
		return nil, fmt.Errorf("README.md:%d: a code block is never closed", open.Line)
	}
	return blocks, nil
}

// parseSetup reads a setup such as OS_SECURITY_KEY=s3cret make run.
func parseSetup(text string) (Setup, bool) {
	m := setupSpan.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return Setup{}, false
	}
	s := Setup{Env: strings.Fields(m[1]), Args: strings.Fields(m[3]), Text: strings.TrimSpace(text)}
	if m[2] == "make run" && len(s.Args) > 0 {
		return Setup{}, false // make run takes no flags
	}
	return s, true
}

// Runs reports whether the check runs the block, and as what: "sh" for a
// shell block that calls curl, "go" and "python" for client programs, "ts"
// for the TypeScript example (run by make test-clients); "" otherwise.
func (b Block) Runs() string {
	switch b.Lang {
	case "sh", "bash", "shell":
		if callsCurl(b.Code) {
			return "sh"
		}
	case "go", "python":
		return b.Lang
	case "ts", "typescript":
		return "ts"
	}
	return ""
}

// curlCommand is curl run as a command, not named in a comment.
var curlCommand = regexp.MustCompile(`(^|[\s;|&(])curl\s`)

// callsCurl reports whether shell code runs curl outside its comments.
func callsCurl(code string) bool {
	for _, line := range strings.Split(code, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if curlCommand.MatchString(line) {
			return true
		}
	}
	return false
}
