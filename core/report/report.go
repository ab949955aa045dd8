// Package report is the JSON report contract of ../shared/spec/report-json.md
// in Go: the types `crashbench info --json` and `analyze --json` print, and a
// builder from the neutral model. Every field is optional: what the dump
// does not say is omitted, never invented.
package report

import (
	"fmt"
	"time"

	"github.com/crashbench/crashbench/core/model"
)

// Schema names this version of the contract.
const Schema = "crashbench.report/1"

// Report is one dump's report.
type Report struct {
	Schema      string          `json:"schema"`
	File        *File           `json:"file,omitempty"`
	Container   string          `json:"container,omitempty"`
	Containers  []string        `json:"containers,omitempty"` // outer to inner, when nested
	Format      string          `json:"format,omitempty"`
	Variant     string          `json:"variant,omitempty"`
	Compression string          `json:"compression,omitempty"`
	OS          *OS             `json:"os,omitempty"`
	Arch        string          `json:"arch,omitempty"`
	ABI         string          `json:"abi,omitempty"`
	CPUs        int             `json:"cpus,omitempty"`
	Time        *Time           `json:"time,omitempty"`
	Process     *Process        `json:"process,omitempty"`
	Processes   []KernelProcess `json:"processes,omitempty"`
	Crash       *Crash          `json:"crash,omitempty"`
	ThreadCount *int            `json:"thread_count,omitempty"`
	ModuleCount *int            `json:"module_count,omitempty"`
	Threads     []Thread        `json:"threads,omitempty"`
	Modules     []Module        `json:"modules,omitempty"`
	Memory      []Memory        `json:"memory,omitempty"`
	Log         []string        `json:"log,omitempty"`
	Analysis    *Analysis       `json:"analysis,omitempty"`
	Details     []Detail        `json:"details,omitempty"`
	Diagnostics []Diagnostic    `json:"diagnostics,omitempty"`
}

// File identifies the dump file.
type File struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256,omitempty"`
	Unpacked string `json:"unpacked,omitempty"` // where a compressed dump was unpacked
}

// OS is the dumped system.
type OS struct {
	Family  string `json:"family,omitempty"`
	Version string `json:"version,omitempty"`
	Build   string `json:"build,omitempty"`
	Release string `json:"release,omitempty"`
}

// Time holds the dump's time facts.
type Time struct {
	Crash         string `json:"crash,omitempty"`
	UptimeSeconds int64  `json:"uptime_seconds,omitempty"`
}

// KernelProcess is one process of a kernel dump's process list.
type KernelProcess struct {
	PID     *uint64 `json:"pid,omitempty"` // absent when the dump does not say (a triage dump's process)
	PPID    *uint64 `json:"ppid,omitempty"`
	Name    string  `json:"name"`
	Address string  `json:"address,omitempty"`
	DirBase string  `json:"dir_base,omitempty"`
	Threads *int    `json:"threads,omitempty"`
}

// Process is the dumped process.
type Process struct {
	PID         uint64 `json:"pid,omitempty"`
	Name        string `json:"name,omitempty"`
	CommandLine string `json:"command_line,omitempty"`
}

// Crash is the recorded event.
type Crash struct {
	Kind       string   `json:"kind,omitempty"`
	Code       *uint64  `json:"code,omitempty"`
	CodeHex    string   `json:"code_hex,omitempty"`
	Name       string   `json:"name,omitempty"`
	Address    string   `json:"address,omitempty"`
	PC         string   `json:"pc,omitempty"`
	Parameters []string `json:"parameters,omitempty"`
	ThreadID   *uint64  `json:"thread_id,omitempty"`
	Message    string   `json:"message,omitempty"`
}

// Memory is one captured range (info --memory).
type Memory struct {
	Base    string `json:"base"`
	Size    uint64 `json:"size"`
	Protect string `json:"protect,omitempty"`
	State   string `json:"state,omitempty"`
	Label   string `json:"label,omitempty"`
	Space   string `json:"space,omitempty"` // "physical" for kernel dumps' physical ranges
	FileOff *int64 `json:"file_offset,omitempty"`
}

// Detail is a format-specific fact.
type Detail struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Diagnostic is a recoverable problem found while reading.
type Diagnostic struct {
	Severity string `json:"severity"`
	Offset   *int64 `json:"offset,omitempty"`
	Message  string `json:"message"`
}

// Hex formats an address the way the contract wants ("0x45").
func Hex(v uint64) string { return fmt.Sprintf("%#x", v) }

// FromInfo fills a report from a target's header summary and diagnostics.
func FromInfo(i model.Info, diags []model.Diagnostic) *Report {
	r := &Report{Schema: Schema, Format: string(i.Format), Variant: i.Variant, Compression: i.Compression,
		Arch: string(i.Arch), ABI: i.ABI, CPUs: i.CPUs}
	if i.OS != (model.OS{}) {
		r.OS = &OS{Family: string(i.OS.Family), Version: i.OS.Version, Build: i.OS.Build, Release: i.OS.Release}
	}
	if !i.Time.IsZero() || i.Uptime > 0 {
		r.Time = &Time{UptimeSeconds: int64(i.Uptime / time.Second)}
		if !i.Time.IsZero() {
			r.Time.Crash = i.Time.UTC().Format(time.RFC3339)
		}
	}
	if p := i.Process; p != nil {
		r.Process = &Process{PID: p.PID, Name: p.Name, CommandLine: p.CommandLine}
	}
	if c := i.Crash; c != nil {
		rc := &Crash{Kind: string(c.Kind), Name: c.Name, Message: c.Message, ThreadID: c.ThreadID}
		if c.Kind != model.Panic && c.Kind != model.Oops {
			code := c.Code
			rc.Code, rc.CodeHex = &code, Hex(code)
		}
		if c.Address != nil {
			rc.Address = Hex(*c.Address)
		}
		if c.PC != nil {
			rc.PC = Hex(*c.PC)
		}
		for _, p := range c.Parameters {
			rc.Parameters = append(rc.Parameters, Hex(p))
		}
		r.Crash = rc
	}
	if i.Threads >= 0 {
		n := i.Threads
		r.ThreadCount = &n
	}
	if i.Modules >= 0 {
		n := i.Modules
		r.ModuleCount = &n
	}
	for _, d := range i.Details {
		r.Details = append(r.Details, Detail{Key: d.Key, Value: d.Value})
	}
	for _, d := range diags {
		rd := Diagnostic{Severity: d.Severity.String(), Message: d.Msg}
		if d.Off >= 0 {
			off := d.Off
			rd.Offset = &off
		}
		r.Diagnostics = append(r.Diagnostics, rd)
	}
	return r
}

// AddRanges fills Memory from captured ranges.
func (r *Report) AddRanges(rs []model.Range) {
	for _, m := range rs {
		e := Memory{Base: Hex(m.Start), Size: m.Size, Protect: m.Prot, Label: m.Label, State: "commit"}
		if m.Physical {
			e.Space = "physical"
		}
		if m.FileOff >= 0 {
			off := m.FileOff
			e.FileOff = &off
		} else {
			e.State = "absent"
		}
		r.Memory = append(r.Memory, e)
	}
}
