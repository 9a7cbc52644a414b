// Package spawn starts agentos-sessions server processes on a loopback port
// the kernel picks (--addr 127.0.0.1:0) and learns their address from the
// one line the server logs once it listens, msg=listening with its addr,
// so that no caller guesses a free port. Tests reach it through
// internal/testkit; the soak and the bench programs call it directly.
package spawn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds how long a server may take to listen.
const startTimeout = time.Minute

// Options are what a started server is given besides serve --addr
// 127.0.0.1:0.
type Options struct {
	// Args follow "serve --addr 127.0.0.1:0".
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Dir is the server's working directory, where relative database
	// paths resolve; "" is this process's.
	Dir string
	// Log, when set, receives the server's log as it writes it. Server.Log
	// keeps it either way.
	Log io.Writer
}

// Server is a running server process.
type Server struct {
	// URL is its base URL, http://127.0.0.1:port.
	URL  string
	cmd  *exec.Cmd
	log  *Log
	done chan struct{}
	err  error // the process's exit, once done is closed
}

// Start runs bin serve --addr 127.0.0.1:0 with opts, and returns once the
// server listens. When it exits first, or does not listen within a minute,
// Start fails with its log.
func Start(ctx context.Context, bin string, opts Options) (*Server, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, opts.Args...)...)
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Dir = opts.Dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{cmd: cmd, log: Watch(stderr, opts.Log), done: make(chan struct{})}
	go func() {
		<-s.log.Done() // Wait must not run before the log is read to its end
		s.err = cmd.Wait()
		close(s.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	addr, err := s.log.Addr(ctx)
	if err != nil {
		_ = s.Stop(10 * time.Second)
		return nil, fmt.Errorf("%s did not start: %w\n%s", bin, err, s.log)
	}
	s.URL = "http://" + addr
	return s, nil
}

// Log is what the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Signal sends sig to the server.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Done is closed when the server has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Wait waits for the server to exit and returns how it did, as
// exec.Cmd.Wait does.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}

// Stop ends the server as SIGTERM does and waits for it; a server still
// running after timeout is killed. It returns how the server exited.
func (s *Server) Stop(timeout time.Duration) error {
	_ = s.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
	}
	return s.Wait()
}

// Log is a server's log, read line by line as it is written.
type Log struct {
	mu     sync.Mutex
	text   strings.Builder
	addr   string
	found  chan struct{} // closed once the listening line is read
	closed chan struct{} // closed once the log ends
}

// Watch reads r, a server's log in its text or JSON format, to its end,
// copying it to copyTo when that is not nil.
func Watch(r io.Reader, copyTo io.Writer) *Log {
	l := &Log{found: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(l.closed)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if copyTo != nil {
				_, _ = fmt.Fprintln(copyTo, line)
			}
			l.mu.Lock()
			l.text.WriteString(line)
			l.text.WriteByte('\n')
			if l.addr == "" {
				if addr, ok := listeningAddr(line); ok {
					l.addr = addr
					close(l.found)
				}
			}
			l.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r) // a line too long for the scanner must not block the writer
	}()
	return l
}

// Addr waits for the line saying the server listens and returns its
// address. It fails when the log ends first or ctx is done.
func (l *Log) Addr(ctx context.Context) (string, error) {
	select {
	case <-l.found:
	case <-l.closed:
		select {
		case <-l.found:
		default:
			return "", errors.New("the server exited before it listened")
		}
	case <-ctx.Done():
		return "", fmt.Errorf("no listening line: %w", ctx.Err())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr, nil
}

// Done is closed once the log has been read to its end.
func (l *Log) Done() <-chan struct{} { return l.closed }

// String returns what has been logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// listeningAddr reads the address from the line the server logs once it
// listens: msg=listening addr=127.0.0.1:PORT in the text format, or
// {"msg":"listening","addr":"127.0.0.1:PORT"} in JSON.
func listeningAddr(line string) (string, bool) {
	if strings.HasPrefix(line, "{") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
			return rec.Addr, true
		}
		return "", false
	}
	fields := strings.Fields(line)
	if !slices.Contains(fields, "msg=listening") {
		return "", false
	}
	for _, f := range fields {
		if addr, ok := strings.CutPrefix(f, "addr="); ok && addr != "" {
			return addr, true
		}
	}
	return "", false
}
