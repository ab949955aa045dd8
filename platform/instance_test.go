package platform

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestHandOffReachesTheRunningInstance(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "cb.sock")
	if ok, err := HandOff(sock, []string{"/a"}); ok || err != nil {
		t.Fatalf("HandOff with no instance = %v, %v; want false, nil", ok, err)
	}
	in, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := Listen(sock); !errors.Is(err, ErrInstanceRunning) {
		t.Fatalf("second Listen: %v, want ErrInstanceRunning", err)
	}
	want := []string{"/dumps/a.dmp", "/dumps/b c.dmp"}
	ok, err := HandOff(sock, want)
	if !ok || err != nil {
		t.Fatalf("HandOff = %v, %v", ok, err)
	}
	select {
	case got := <-in.Files():
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("files never arrived")
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "cb.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := Listen(sock)
	if err != nil {
		t.Fatalf("Listen over a stale file: %v", err)
	}
	in.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("Close left the socket: %v", err)
	}
}
