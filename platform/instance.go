package platform

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// One workbench per user: a second `crashbench FILE...` (a double-click
// while the workbench runs) hands its files to the running one over a
// per-user Unix-domain socket and exits, as ../shared/spec/cli.md asks.
// Windows 10 1803 and later support AF_UNIX too, so one mechanism serves
// every desktop OS.

// instanceMessage is what a second instance sends: one JSON line.
type instanceMessage struct {
	Files []string `json:"files"`
}

// InstanceSocket returns the per-user socket path: in $XDG_RUNTIME_DIR
// where it exists (private to the user by definition), else in the
// temporary directory with the user id in the name.
func InstanceSocket() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return filepath.Join(d, "crashbench.sock")
		}
	}
	return filepath.Join(os.TempDir(), "crashbench-"+strconv.Itoa(os.Getuid())+".sock")
}

// HandOff sends files to a workbench already listening on socket. It
// reports whether one took them; false with a nil error means none runs.
func HandOff(socket string, files []string) (bool, error) {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return false, nil // nobody listening (or a stale socket): start a workbench
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(conn).Encode(instanceMessage{Files: files}); err != nil {
		return false, fmt.Errorf("handing files to the running workbench: %w", err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || reply != "ok\n" {
		return false, fmt.Errorf("the running workbench did not confirm (%q): %v", reply, err)
	}
	return true, nil
}

// Instance is the listening side: the running workbench.
type Instance struct {
	ln     net.Listener
	files  chan []string
	socket string
	once   sync.Once
}

// ErrInstanceRunning says another workbench already listens on the socket.
var ErrInstanceRunning = errors.New("a workbench is already running for this user")

// Listen makes this process the user's workbench: files that later
// instances hand off arrive on Files. A stale socket left by a crashed
// workbench is replaced.
func Listen(socket string) (*Instance, error) {
	ln, err := net.Listen("unix", socket)
	if err != nil {
		if c, derr := net.DialTimeout("unix", socket, time.Second); derr == nil {
			c.Close()
			return nil, ErrInstanceRunning
		}
		// Nobody answers: a stale socket file. Remove it and try once more.
		os.Remove(socket)
		if ln, err = net.Listen("unix", socket); err != nil {
			return nil, err
		}
	}
	in := &Instance{ln: ln, files: make(chan []string, 16), socket: socket}
	go in.serve()
	return in, nil
}

// Files delivers each batch of files handed off by another instance.
func (in *Instance) Files() <-chan []string { return in.files }

func (in *Instance) serve() {
	defer close(in.files)
	for {
		conn, err := in.ln.Accept()
		if err != nil {
			return // closed
		}
		in.handle(conn)
	}
}

func (in *Instance) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// A handful of paths; cap the line so a stray client cannot make the
	// workbench buffer without bound.
	r := bufio.NewReaderSize(conn, 64<<10)
	line, err := r.ReadSlice('\n')
	if err != nil {
		return
	}
	var msg instanceMessage
	if json.Unmarshal(line, &msg) != nil {
		return
	}
	select {
	case in.files <- msg.Files:
		conn.Write([]byte("ok\n"))
	default: // the workbench is not draining: let the sender start its own
	}
}

// Close stops listening and removes the socket.
func (in *Instance) Close() error {
	var err error
	in.once.Do(func() {
		err = in.ln.Close()
		os.Remove(in.socket)
	})
	return err
}
