package workspace

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// State is what the workbench keeps between runs beside the index: the
// dumps open when it last closed, and the files opened lately, newest
// first. It is a small JSON file saved atomically (SaveState), so that a
// crash or a full disk while saving leaves the previous state whole.
type State struct {
	Open   []string `json:"open"`
	Recent []string `json:"recent"`
}

// StatePath is where the workbench state lives: workbench.json beside the
// default index.
func StatePath() (string, error) {
	db, err := DefaultPath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(db), "workbench.json"), nil
}

// LoadState reads the state at path. A missing file is an error matching
// fs.ErrNotExist (a first start); a damaged one is an error saying so. The
// State is empty in both cases.
func LoadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("workspace: %s is damaged: %w", path, err)
	}
	return s, nil
}

// SaveState writes the state to path atomically.
func SaveState(path string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// WriteFileAtomic replaces the file at path with data so that a reader, or
// the next start after a crash, sees the old contents or the new ones,
// never a mix or a truncated file: the data goes to a temporary file in
// the same folder, is synced, and is renamed over path; the folder is
// synced so that the rename survives a power cut.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tf, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tf.Close()
			os.Remove(tf.Name())
		}
	}()
	if _, err := tf.Write(data); err != nil {
		return err
	}
	if err := tf.Chmod(perm); err != nil {
		return err
	}
	if err := tf.Sync(); err != nil {
		return err
	}
	if err := tf.Close(); err != nil {
		return err
	}
	if err := os.Rename(tf.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		// Best effort: not every system can sync a folder (Windows
		// cannot), and the rename is atomic without it.
		d.Sync()
		d.Close()
	}
	return nil
}
