package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection, the first wrapped.
func pair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		accepted <- nc
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	c := New(nc)
	t.Cleanup(func() { c.Close(); peer.Close() })
	return c, peer
}

func TestReadWrite(t *testing.T) {
	c, peer := pair(t)
	if c.raw == nil {
		t.Fatal("a TCP connection must be read and written with raw system calls")
	}
	if _, err := c.Write([]byte("get k\r\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 7)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "get k\r\n" {
		t.Fatalf("peer read %q, %v", got, err)
	}
	if _, err := peer.Write([]byte("END\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "END\r\n" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

func TestReadEOF(t *testing.T) {
	c, peer := pair(t)
	peer.Close()
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer closed = %d, %v; want 0, EOF", n, err)
	}
}

func TestReadDeadline(t *testing.T) {
	c, _ := pair(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if err := c.WaitReadable(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WaitReadable past its deadline: %v", err)
	}
}

func TestCloseWakesReader(t *testing.T) {
	c, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed conn: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the reader")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed conn: %v", err)
	}
}

// A write larger than the socket buffers waits for the peer to read and
// delivers every byte, in order.
func TestWriteWaitsForRoom(t *testing.T) {
	c, peer := pair(t)
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(big))))
		got <- b
	}()
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("peer received %d bytes, not the %d written", len(b), len(big))
	}
}

func TestWriteToResetPeerFails(t *testing.T) {
	c, peer := pair(t)
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close() // sends a reset
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte("set k 0 0 1\r\nx\r\n")); err != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("writes to a reset connection kept succeeding")
}

// WaitReadable returns once data is waiting, and leaves it to be read.
func TestWaitReadableConsumesNothing(t *testing.T) {
	c, peer := pair(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("version\r\n"))
	}()
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	// Readable at once now: the first call peeks and finds the data.
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "version\r\n" {
		t.Fatalf("Read after WaitReadable = %q, %v", buf[:n], err)
	}
	peer.Close()
	if err := c.WaitReadable(); err != nil {
		t.Fatalf("WaitReadable at the end of the stream: %v", err)
	}
}

func TestPeek(t *testing.T) {
	c, peer := pair(t)
	if data, err := c.Peek(); data || err != nil {
		t.Fatalf("Peek with nothing sent = %v, %v", data, err)
	}
	peer.Write([]byte("END\r\n"))
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if data, err := c.Peek(); !data || err != nil {
		t.Fatalf("Peek with data waiting = %v, %v", data, err)
	}
	buf := make([]byte, 8)
	if n, err := c.Read(buf); string(buf[:n]) != "END\r\n" || err != nil {
		t.Fatalf("Read after Peek = %q, %v", buf[:n], err)
	}
	peer.Close()
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if data, err := c.Peek(); data || err != io.EOF {
		t.Fatalf("Peek after the peer closed = %v, %v", data, err)
	}
}

// Without a socket (a net.Pipe) Conn uses the net.Conn's own methods, and
// WaitReadable holds the byte it had to read for the next Read.
func TestWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	c := New(a)
	go func() {
		b.Write([]byte("hi"))
		b.Close()
	}()
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if data, err := c.Peek(); !data || err != nil {
		t.Fatalf("Peek with data waiting = %v, %v", data, err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("Read = %q, %v", buf, err)
	}
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if data, err := c.Peek(); data || err != io.EOF {
		t.Fatalf("Peek at the end = %v, %v", data, err)
	}
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("Read at the end: %v", err)
	}

	idle, other := net.Pipe()
	defer idle.Close()
	defer other.Close()
	c = New(idle)
	idle.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if err := c.WaitReadable(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WaitReadable past its deadline: %v", err)
	}
}

func TestNoAllocations(t *testing.T) {
	c, peer := pair(t)
	msg := []byte("get k\r\n")
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReadable(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per write, wait and read; want 0", allocs)
	}
}
