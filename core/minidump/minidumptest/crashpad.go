package minidumptest

import "github.com/crashbench/crashbench/core/internal/testasm"

// crashpadStream writes MinidumpCrashpadInfo (crashpad
// minidump/minidump_extensions.h): version, report and client GUIDs, the
// simple-annotation dictionary and a one-entry module list whose
// MinidumpModuleCrashpadInfo carries list, simple and object annotations.
// Strings are MinidumpUTF8String (length, bytes, NUL).
func (b *Builder) crashpadStream(add func(uint32, func(*testasm.Section)), late *[]func(*testasm.Section)) {
	c := b.crashpad
	utf8 := func(body *testasm.Section, l *testasm.Label, s []byte) {
		body.Align(4).Mark(l).D32(uint32(len(s))).Append(s).D8(0)
	}
	dict := func(body *testasm.Section, l *testasm.Label, kv [][2]string) {
		keys := make([]*testasm.Label, len(kv))
		vals := make([]*testasm.Label, len(kv))
		body.Align(4).Mark(l).D32(uint32(len(kv)))
		for i := range kv {
			keys[i], vals[i] = testasm.NewLabel("key"), testasm.NewLabel("val")
			body.L32(keys[i]).L32(vals[i])
		}
		for i, p := range kv {
			utf8(body, keys[i], []byte(p[0]))
			utf8(body, vals[i], []byte(p[1]))
		}
	}
	loc := func(body *testasm.Section, l *testasm.Label, n int, size uint32) {
		if n == 0 {
			body.D32(0).D32(0)
			return
		}
		body.D32(size).L32(l)
	}
	simple, mods, mod := testasm.NewLabel("simple"), testasm.NewLabel("mods"), testasm.NewLabel("mod")
	list, msimple, objs := testasm.NewLabel("list"), testasm.NewLabel("msimple"), testasm.NewLabel("objs")
	add(0x43500001, func(body *testasm.Section) {
		body.D32(1).Append(c.ReportID[:]).Append(c.ClientID[:])
		loc(body, simple, len(c.Simple), uint32(4+8*len(c.Simple)))
		body.D32(16).L32(mods)
	})
	*late = append(*late, func(body *testasm.Section) {
		if len(c.Simple) > 0 {
			dict(body, simple, c.Simple)
		}
		// MinidumpModuleCrashpadInfoList: count, {index, location}.
		body.Align(4).Mark(mods).D32(1).D32(c.ModuleIndex).D32(28).L32(mod)
		body.Align(4).Mark(mod).D32(1)
		loc(body, list, len(c.ModuleList), uint32(4+4*len(c.ModuleList)))
		loc(body, msimple, len(c.ModuleSimple), uint32(4+8*len(c.ModuleSimple)))
		loc(body, objs, len(c.Objects), uint32(4+12*len(c.Objects)))
		if len(c.ModuleList) > 0 {
			ls := make([]*testasm.Label, len(c.ModuleList))
			body.Align(4).Mark(list).D32(uint32(len(ls)))
			for i := range ls {
				ls[i] = testasm.NewLabel("li")
				body.L32(ls[i])
			}
			for i, s := range c.ModuleList {
				utf8(body, ls[i], []byte(s))
			}
		}
		if len(c.ModuleSimple) > 0 {
			dict(body, msimple, c.ModuleSimple)
		}
		if len(c.Objects) > 0 {
			names := make([]*testasm.Label, len(c.Objects))
			vals := make([]*testasm.Label, len(c.Objects))
			body.Align(4).Mark(objs).D32(uint32(len(c.Objects)))
			for i, o := range c.Objects {
				names[i], vals[i] = testasm.NewLabel("oname"), testasm.NewLabel("oval")
				body.L32(names[i]).D16(o.Type).D16(0).L32(vals[i])
			}
			for i, o := range c.Objects {
				utf8(body, names[i], []byte(o.Name))
				body.Align(4).Mark(vals[i]).D32(uint32(len(o.Value))).Append(o.Value)
			}
		}
	})
}
