package spawn

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestListeningAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, want string
	}{
		{`time=2026-01-02T03:04:05.000Z level=INFO msg=listening addr=127.0.0.1:41234 databases=1`, "127.0.0.1:41234"},
		{`{"time":"2026-01-02T03:04:05Z","level":"INFO","msg":"listening","addr":"127.0.0.1:41234","databases":1}`, "127.0.0.1:41234"},
		{`time=2026-01-02T03:04:05.000Z level=INFO msg="applied migration" addr=x`, ""},
		{`{"msg":"request","addr":"127.0.0.1:1"}`, ""},
		{`level=INFO msg=listening`, ""},
	}
	for _, tt := range tests {
		if got, _ := listeningAddr(tt.line); got != tt.want {
			t.Errorf("listeningAddr(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestLog_Addr(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, w := io.Pipe()
	l := Watch(r, nil)
	go func() {
		_, _ = io.WriteString(w, "level=INFO msg=migrating\nlevel=INFO msg=listening addr=127.0.0.1:5\nlevel=INFO msg=request\n")
		_ = w.Close()
	}()
	if addr, err := l.Addr(ctx); addr != "127.0.0.1:5" || err != nil {
		t.Errorf("Addr = %q, %v; want 127.0.0.1:5", addr, err)
	}

	l = Watch(strings.NewReader("level=ERROR msg=\"open store: refused\"\n"), nil)
	if addr, err := l.Addr(ctx); err == nil {
		t.Errorf("Addr of a log that ends without listening = %q, want an error", addr)
	}
	if !strings.Contains(l.String(), "refused") {
		t.Errorf("log %q lacks what the server said", l.String())
	}
}
