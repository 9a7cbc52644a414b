//go:build linux || darwin || freebsd || netbsd || openbsd

package store

import (
	"net"
	"testing"
	"time"
)

func TestSocketDead(t *testing.T) {
	pair := func(t *testing.T) (client, server net.Conn) {
		t.Helper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		client, err = net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server = <-accepted
		t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
		return client, server
	}
	// eventually gives the kernel a moment to deliver what the peer sent.
	eventually := func(t *testing.T, c net.Conn, want bool) {
		t.Helper()
		for range 100 {
			if socketDead(c) == want {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("socketDead: got %v, want %v", !want, want)
	}

	t.Run("IdleIsAlive", func(t *testing.T) {
		c, _ := pair(t)
		for range 3 { // peeking consumes nothing and never blocks
			if socketDead(c) {
				t.Fatal("socketDead of an idle connection: got true, want false")
			}
		}
	})
	t.Run("UnsolicitedBytesAreDead", func(t *testing.T) {
		c, s := pair(t)
		if _, err := s.Write([]byte("E")); err != nil {
			t.Fatal(err)
		}
		eventually(t, c, true)
		b := make([]byte, 1) // the byte is still there to read
		if n, err := c.Read(b); n != 1 || b[0] != 'E' {
			t.Fatalf("read after peek: got %d %q %v, want 1 \"E\"", n, b[:n], err)
		}
	})
	t.Run("ClosedByPeerIsDead", func(t *testing.T) {
		c, s := pair(t)
		_ = s.Close()
		eventually(t, c, true)
	})
	t.Run("DoesNotWaitForAParkedReader", func(t *testing.T) {
		// pgx's background reader can be left blocked in Read on an idle
		// connection; the check must not queue behind it.
		c, _ := pair(t)
		go func() { _, _ = c.Read(make([]byte, 1)) }() // returns when the pair closes
		time.Sleep(20 * time.Millisecond)              // let it park; not a measurement
		answered := make(chan bool, 1)
		go func() { answered <- socketDead(c) }()
		select {
		case dead := <-answered:
			if dead {
				t.Error("socketDead with a parked reader: got true, want false")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("socketDead blocked behind a pending Read")
		}
	})
	t.Run("NotASocketIsDead", func(t *testing.T) {
		a, b := net.Pipe()
		defer func() { _ = a.Close() }()
		defer func() { _ = b.Close() }()
		if !socketDead(a) {
			t.Fatal("socketDead of a pipe: got false, want true (ping instead)")
		}
	})
}
