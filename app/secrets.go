package app

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// scanSelected scans the selected dump for secrets (Tools › Scan for
// Secrets…) in the background, as a task in the status bar with its
// progress, and opens the result in a window of its own, so that the
// engineer can go through the findings beside the dump's hex view.
func (m *mainWindow) scanSelected() {
	sess := m.dumps.Session(m.list.Selected())
	if sess == nil {
		return
	}
	name := filepath.Base(sess.Path())
	ctx, task := m.tasks.Start(m.ctx, "Scanning "+name+" for secrets")
	go func() {
		defer task.Finish()
		// The values are kept so that "Show values" needs no second scan;
		// they are shown only when asked for.
		rep, err := sess.ScanSecrets(ctx, true, func(done, total int64) {
			task.Progress("Scanning "+name+" for secrets", done, total)
		})
		onUI(func() {
			if rep == nil {
				dialog.ShowError(err, m.win)
				return
			}
			m.showSecrets(sess, rep)
		})
	}()
}

// showSecrets opens a window on a scan's report. Selecting a finding in
// process or kernel memory opens the dump's hex view at it; physical
// addresses have no view to go to.
func (m *mainWindow) showSecrets(sess *session.Session, rep *secrets.Report) *widgets.SecretsView {
	v := widgets.NewSecretsView()
	v.SetReport(rep.Summary(), rep.CountsLine(), secretRows(rep, console.PointerSize(sess.Target().Info().Arch)))
	if !rep.Physical {
		v.OnSelected = func(r widgets.SecretRow) {
			if t, ok := m.perDump[sess]; ok {
				t.showData(r.Addr)
				m.win.RequestFocus()
			}
		}
	}
	w := m.app.NewWindow("Secrets in " + filepath.Base(sess.Path()))
	w.SetContent(v)
	w.Resize(fyne.NewSize(1200, 560))
	w.Show()
	return v
}

// secretRows adapts a report's findings to the view's rows.
func secretRows(rep *secrets.Report, ptrSize int) []widgets.SecretRow {
	if rep.Physical {
		ptrSize = 8
	}
	rows := make([]widgets.SecretRow, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		rows = append(rows, widgets.SecretRow{
			Kind:    string(f.Kind),
			Address: console.FormatAddr(f.Addr, ptrSize),
			Addr:    f.Addr,
			Where:   f.Where(),
			Context: f.Context,
			Preview: f.Preview,
			Value:   secrets.Printable(f.Value),
		})
	}
	return rows
}
