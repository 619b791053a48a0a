package sockio

import (
	"testing"
	"time"
)

// Unread counts the bytes that have arrived and not been read, and drops
// what a Read takes.
func TestUnread(t *testing.T) {
	c, peer := pair(t)
	if n := c.Unread(); n != 0 {
		t.Fatalf("Unread with nothing sent = %d", n)
	}
	if _, err := peer.Write([]byte("get a b c\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if n := c.Unread(); n != 11 {
		t.Fatalf("Unread after 11 bytes arrived = %d", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if n := c.Unread(); n != 7 {
		t.Fatalf("Unread after reading 4 of 11 bytes = %d", n)
	}
}
