package minidump

// Decoders maps every stream type the package decodes to a function that
// decodes it from a File, returning the typed value (a pointer, slice or
// string) or the accessor's error. A `.dumpstreams` command and FuzzNewFile
// iterate over it. It is an explicit table, not init-time registration.
var Decoders = map[StreamType]func(*File) (any, error){
	ThreadListStream:         decoder((*File).ThreadList),
	ThreadExListStream:       decoder((*File).ThreadExList),
	ModuleListStream:         decoder((*File).ModuleList),
	UnloadedModuleListStream: decoder((*File).UnloadedModuleList),
	MemoryListStream:         decoder((*File).MemoryList),
	Memory64ListStream:       decoder((*File).Memory64List),
	ExceptionStream:          decoder((*File).Exception),
	SystemInfoStream:         decoder((*File).SystemInfo),
	MiscInfoStream:           decoder((*File).MiscInfo),
	MemoryInfoListStream:     decoder((*File).MemoryInfoList),
	ThreadInfoListStream:     decoder((*File).ThreadInfoList),
	HandleDataStream:         decoder((*File).HandleData),
	ThreadNamesStream:        decoder((*File).ThreadNames),
	CommentStreamA:           decoder((*File).CommentA),
	CommentStreamW:           decoder((*File).CommentW),
	BreakpadInfoStream:       decoder((*File).BreakpadInfo),
	AssertionInfoStream:      decoder((*File).Assertion),
	LinuxCPUInfoStream:       decoder((*File).LinuxCPUInfo),
	LinuxProcStatusStream:    decoder((*File).LinuxProcStatus),
	LinuxLSBReleaseStream:    decoder((*File).LinuxLSBRelease),
	LinuxCmdLineStream:       decoder((*File).LinuxCmdLine),
	LinuxEnvironStream:       decoder((*File).LinuxEnviron),
	LinuxAuxvStream:          decoder((*File).LinuxAuxv),
	LinuxMapsStream:          decoder((*File).LinuxMaps),
	LinuxDSODebugStream:      decoder((*File).LinuxDSODebug),
	CrashpadInfoStream:       decoder((*File).CrashpadInfo),
	MozMacosCrashInfo:        decoder((*File).MozMacosCrashInfo),
}

// decoder adapts a typed accessor, so that a failed decode yields a nil
// interface rather than a typed nil.
func decoder[T any](fn func(*File) (T, error)) func(*File) (any, error) {
	return func(f *File) (any, error) {
		v, err := fn(f)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}
