package readmecheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ReadmeURL is the address the README's examples call, the default of
// make run. The check rewrites it to the address of the server it started
// on a port the kernel picked, so that two runs on one machine never meet.
const ReadmeURL = "http://127.0.0.1:7777"

// commandTimeout bounds each block's run.
const commandTimeout = 2 * time.Minute

// Serve starts a server in dir (where its relative paths, such as the
// SQLite default ./agentos.db, resolve) with env added to the environment
// and args after serve --addr 127.0.0.1:0, stops it when the test ends,
// and returns its base URL.
type Serve func(t testing.TB, dir string, env, args []string) string

// Check runs the examples of the README at path in order, each against
// the server of its setup, and fails the test on the first difference of
// each block. It logs what it ran and what it skipped.
func Check(t *testing.T, path string, serve Serve) {
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, root: filepath.Dir(path), blocks: blocks, serve: serve, servers: map[string]string{}}
	ran := 0
	for i, b := range blocks {
		kind := b.Runs()
		switch {
		case kind == "":
			continue
		case b.Skip != "":
			t.Logf("README.md:%d: %s block SKIPPED: %s", b.Line, kind, b.Skip)
			continue
		case kind == "ts":
			t.Logf("README.md:%d: ts block: run by make test-clients", b.Line)
			continue
		}
		if err := r.run(i, kind); err != nil {
			t.Errorf("README.md:%d: %s block: %v", b.Line, kind, err)
			continue
		}
		ran++
	}
	if ran == 0 {
		t.Errorf("README.md: no example ran")
	}
}

type runner struct {
	t       *testing.T
	root    string // the README's folder, the module's root
	blocks  []Block
	serve   Serve
	servers map[string]string // setup text → base URL
}

// serverLine is a line of a shell block that starts the server in the
// background, as a user would in a terminal: the check starts it instead.
var serverLine = regexp.MustCompile(`^\s*((?:make run|agentos-sessions serve)\b[^&]*?)\s*&\s*$`)

// run runs blocks[i] as kind.
func (r *runner) run(i int, kind string) error {
	b := r.blocks[i]
	setup := b.Setup
	code := b.Code
	if kind == "sh" {
		var err error
		if setup, code, err = inlineSetup(b, setup); err != nil {
			return err
		}
	}
	url, err := r.server(i, setup)
	if err != nil {
		return err
	}
	b.Code = strings.ReplaceAll(code, ReadmeURL, url)
	env := append(scrubbedEnv(), setup.Env...)
	r.t.Logf("README.md:%d: %s block against `%s`", b.Line, kind, setup.Text)
	switch kind {
	case "sh":
		return r.shell(b, env)
	case "python":
		return r.python(b, env)
	default:
		return r.golang(b, env)
	}
}

// inlineSetup reads a server started inside a shell block (`make run &`
// after `export` lines) as the block's setup, and takes that line out.
func inlineSetup(b Block, setup Setup) (Setup, string, error) {
	lines := strings.Split(b.Code, "\n")
	var exported []string
	for i, line := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			exported = append(exported, strings.Fields(rest)...)
			continue
		}
		m := serverLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s, ok := parseSetup(strings.Join(append(append([]string{}, exported...), m[1]), " "))
		if !ok {
			return setup, "", fmt.Errorf("README.md:%d: cannot read the server line %q", b.Line+1+i, line)
		}
		lines[i] = ": # the README check started this server"
		return s, strings.Join(lines, "\n"), nil
	}
	return setup, b.Code, nil
}

// server returns the URL of the server of setup, starting it on a fresh
// database at its first use, with its config file from the README.
func (r *runner) server(i int, setup Setup) (string, error) {
	if url, ok := r.servers[setup.Text]; ok {
		return url, nil
	}
	dir := r.t.TempDir()
	if name := setup.Config(); name != "" {
		content, ok := r.file(i, name)
		if !ok {
			return "", fmt.Errorf("the setup `%s` names %s, but no yaml block before it is that file", setup.Text, name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	var args []string
	for j := 0; j < len(setup.Args); j++ {
		if setup.Args[j] == "--addr" {
			j++ // the check's own
			continue
		}
		args = append(args, setup.Args[j])
	}
	url := r.serve(r.t, dir, append(scrubbedEnv(), setup.Env...), args)
	r.servers[setup.Text] = url
	r.t.Logf("README.md: started `%s` on a fresh database in %s at %s", setup.Text, dir, url)
	return url, nil
}

// file is the last yaml block before blocks[i] named name.
func (r *runner) file(i int, name string) (string, bool) {
	for j := i - 1; j >= 0; j-- {
		b := r.blocks[j]
		if b.Lang != "yaml" && b.Lang != "yml" {
			continue
		}
		for _, n := range b.Names {
			if n == name {
				return b.Code, true
			}
		}
	}
	return "", false
}

// scrubbedEnv empties the variables the server reads, so that a
// developer's own settings do not reach the servers and commands the check
// starts: each example gets exactly the environment its setup names.
func scrubbedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AGENTOS_"), strings.HasPrefix(name, "JWT_"),
			name == "DATABASE_URL", name == "OS_SECURITY_KEY":
			env = append(env, name+"=")
		}
	}
	return env
}

// stepMarker separates the output of a shell block's commands.
const stepMarker = "<<readme-check: step done>>"

// shell runs a shell block in one bash, so that variables and functions
// carry from one command to the next, and compares each command's output.
func (r *runner) shell(b Block, env []string) error {
	steps, err := Steps(b, "#")
	if err != nil {
		return err
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, s := range steps {
		fmt.Fprintf(&script, "%s\nprintf '\\n%%s\\n' '%s'\n", s.Command, stepMarker)
	}
	out, failed := r.command(env, "bash", "-c", script.String())
	// The commands that finished are compared even when a later one
	// failed: the first difference is the better clue.
	outputs := strings.Split(out, stepMarker+"\n")
	for k, s := range steps[:min(len(steps), len(outputs)-1)] {
		first, _, _ := strings.Cut(s.Command, "\n")
		r.t.Logf("  ran README.md:%d: %s", s.Line, strings.TrimSpace(first))
		if err := Match(s.Want, outputs[k]); err != nil {
			return err
		}
		if len(s.Want) > 0 {
			r.t.Logf("    and compared the %d outputs shown after it", len(s.Want))
		}
	}
	return failed
}

// python runs a Python example with Debian's python3 and its httpx
// (python3-httpx). Without them it fails under CI=true, and is skipped
// loudly on a workstation.
func (r *runner) python(b Block, env []string) error {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import httpx").Run(); err != nil {
		msg := fmt.Sprintf("%s with httpx is needed (apt-get install python3-httpx): %v", python, err)
		if os.Getenv("CI") == "true" {
			return fmt.Errorf("%s", msg)
		}
		fmt.Fprintf(os.Stderr, "readmecheck: *** README.md:%d: python block SKIPPED: %s ***\n", b.Line, msg)
		r.t.Logf("README.md:%d: python block SKIPPED: %s", b.Line, msg)
		return nil
	}
	file := filepath.Join(r.t.TempDir(), "example.py")
	if err := os.WriteFile(file, []byte(b.Code+"\n"), 0o600); err != nil {
		return err
	}
	out, err := r.command(env, python, file)
	if err != nil {
		return err
	}
	return r.program(b, "#", out)
}

// golang builds a Go example as a program of this module, so that it
// imports the client as a user's program would, runs it and compares
// what it prints.
func (r *runner) golang(b Block, env []string) error {
	dir := r.t.TempDir()
	src, bin := filepath.Join(dir, "main.go"), filepath.Join(dir, "example")
	if err := os.WriteFile(src, []byte(b.Code+"\n"), 0o600); err != nil {
		return err
	}
	build := exec.Command("go", "build", "-o", bin, src)
	build.Dir = r.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	out, err := r.command(env, bin)
	if err != nil {
		return err
	}
	return r.program(b, "//", out)
}

// program compares a program's output with every output its block shows.
func (r *runner) program(b Block, comment, out string) error {
	steps, err := Steps(b, comment)
	if err != nil {
		return err
	}
	var want []Output
	for _, s := range steps {
		want = append(want, s.Want...)
	}
	if err := Match(want, out); err != nil {
		return err
	}
	r.t.Logf("  ran it, compared %d outputs shown", len(want))
	return nil
}

// command runs name with args and env in a temporary folder and returns
// its stdout, also when it fails; the error then carries its stderr.
func (r *runner) command(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w\nstdout:\n%s\nstderr:\n%s", name, err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}
