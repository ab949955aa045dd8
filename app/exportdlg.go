package app

import (
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
)

// exportSelected asks where to save a minimal copy of the selected dump
// (File › Export Minimal Copy…) and writes it in the background, as a
// task in the status bar, then says what was kept and removed.
func (m *mainWindow) exportSelected() {
	i := m.list.Selected()
	sess := m.dumps.Session(i)
	if sess == nil {
		return
	}
	name := strings.TrimSuffix(filepath.Base(sess.Path()), filepath.Ext(sess.Path())) + "-minimal"
	if sess.Target().Info().Format == model.Minidump {
		name += ".dmp"
	} else {
		name += ".txt"
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		out := w.URI().Path()
		w.Close()
		m.export(sess, out)
	}, m.win)
	d.SetFileName(name)
	d.Show()
}

// export writes the copy off the UI thread and reports the result.
func (m *mainWindow) export(sess *session.Session, out string) {
	ctx, task := m.tasks.Start(m.ctx, "Exporting "+filepath.Base(out))
	go func() {
		defer task.Finish()
		lines, err := sess.ExportMinimal(ctx, out)
		onUI(func() {
			if err != nil {
				dialog.ShowError(err, m.win)
				return
			}
			dialog.ShowInformation("Minimal copy written", strings.Join(lines, "\n"), m.win)
		})
	}()
}
